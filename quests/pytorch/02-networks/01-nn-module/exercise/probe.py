"""Observations for the MLP exercise (runs in the sandbox after the program; holds no answers)."""

from questlab.grading.sandbox import describe_module, observation


@observation("mlp")
def mlp(sub):
    # A fresh MLP(), its structure, and its outputs on seeded inputs with seeded parameters.
    return describe_module(sub.model("MLP"), inputs={"batch": (8, 784), "one": (1, 784)})


@observation("model")
def model(sub):
    # The `model` object the program made at the top level.
    return describe_module(sub.instance("model", cls="MLP"))
