"""questlab.web."""
