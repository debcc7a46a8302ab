"""Grading: ``sandbox`` observes in the learner's run; ``judge`` decides on the server (docs/grading.md)."""
