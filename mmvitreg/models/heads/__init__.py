"""mmvitreg.models.heads."""
