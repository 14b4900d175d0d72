"""mmvitreg.models.classifiers."""
