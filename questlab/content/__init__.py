"""questlab.content."""
