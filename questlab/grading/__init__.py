"""questlab.grading."""
