"""questlab.progress."""
