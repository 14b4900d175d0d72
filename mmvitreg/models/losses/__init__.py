"""mmvitreg.models.losses."""
