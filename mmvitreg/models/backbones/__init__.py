"""mmvitreg.models.backbones."""
