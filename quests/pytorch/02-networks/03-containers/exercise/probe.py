"""Observations for the MultiTaskNet exercise (runs in the sandbox after the program; holds no answers)."""

import re

from torch import nn

from questlab.grading.sandbox import Unobservable, describe_module, observation


def sizes(sub, name, length):
    # Layer widths the program cannot guess: 2 to 9 each.
    return [2 + sub.inputs.seed_for(f"{name}:{i}") % 8 for i in range(length)]


def new_model(sub):
    # A new MultiTaskNet(); when it cannot be made, the reason without the line number,
    # so the same mistake reads the same wherever it sits in the program.
    try:
        return sub.model("MultiTaskNet")
    except Unobservable as err:
        if err.key != "init_raised":
            raise
        error = re.sub(r" \(line \d+\)$", "", str(err.params.get("error", "")))
        raise Unobservable("init_raised", cls="MultiTaskNet", error=error) from None


@observation("build_mlp")
def build_mlp(sub):
    # build_mlp on two seeded lists of sizes: what it returns, its children, and its outputs.
    func = sub.function("build_mlp")
    found = []
    for case, length in (("a", 3), ("b", 4)):
        widths = sizes(sub, case, length)
        entry = {"sizes": widths, "raised": None, "type": None, "children": None, "desc": None}
        try:
            net = func(list(widths))
        except Exception as err:
            entry["raised"] = f"{type(err).__name__}: {err}"[:300]
            found.append(entry)
            continue
        entry["type"] = type(net).__name__
        if isinstance(net, nn.Module):
            # Every child by the name it was given, a module used twice (a shared ReLU) included.
            entry["children"] = [
                name for name, _ in net.named_modules(remove_duplicate=False) if name and "." not in name
            ]
            entry["desc"] = describe_module(net, inputs={f"x_{case}": (3, widths[0])})
        found.append(entry)
    return found


@observation("model")
def model(sub):
    # A new MultiTaskNet(): its tree, and its outputs on a seeded batch with seeded parameters.
    return describe_module(new_model(sub), inputs={"x": (5, 8)})


@observation("heads")
def heads(sub):
    # What `self.heads` of a new MultiTaskNet() is, and its keys in order.
    value = getattr(new_model(sub), "heads", None)
    keys = list(value.keys()) if isinstance(value, (dict, nn.ModuleDict)) else None
    return {"type": type(value).__name__, "keys": keys}


@observation("state_keys")
def state_keys(sub):
    # The state_dict keys of a new MultiTaskNet().
    return list(new_model(sub).state_dict().keys())
