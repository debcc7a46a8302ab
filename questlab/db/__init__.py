"""questlab.db."""
