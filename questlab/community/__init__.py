"""questlab.community."""
