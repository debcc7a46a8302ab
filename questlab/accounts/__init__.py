"""questlab.accounts."""
