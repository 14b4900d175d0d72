"""mmvitreg.models.batch_augments."""
