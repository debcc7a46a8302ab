"""questlab.runner."""
