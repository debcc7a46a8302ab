"""Observations for the init exercise (runs in the sandbox after the program; holds no answers).

`build_model` is called with sizes drawn from the seed. `init_weights` is applied with
`Module.apply` to a model of the probe's own, nested and holding an nn.Embedding, after every
parameter was overwritten with seeded values; what each parameter holds afterwards is reported.
The program's own `model` is reported as the program left it.
"""

from collections import OrderedDict

import torch
from torch import nn

from questlab.grading.sandbox import describe_module, observation


def _sizes(sub, case):
    # (in_f, hidden, out_f, depth): small widths the program cannot guess, and 2 or 3 hidden blocks.
    draw = [sub.inputs.seed_for(f"build:{case}:{i}") for i in range(4)]
    return [3 + draw[0] % 6, 5 + draw[1] % 8, 2 + draw[2] % 3, 2 + draw[3] % 2]


def _call(func, *args):
    try:
        return func(*args), None
    except Exception as err:
        return None, f"{type(err).__name__}: {err}"[:300]


@observation("build")
def build(sub):
    # build_model on two seeded sets of sizes: the layers, which positions hold one object twice,
    # and the outputs on a seeded batch with seeded parameters.
    func = sub.function("build_model")
    found = []
    for case in ("a", "b"):
        sizes = _sizes(sub, case)
        net, raised = _call(func, *sizes)
        entry = {"sizes": sizes, "raised": raised, "type": type(net).__name__, "shared": [], "desc": None}
        if raised is None and isinstance(net, nn.Module):
            first = {}
            for name, module in net.named_modules(remove_duplicate=False):
                if name and "." not in name and any(True for _ in module.parameters()):
                    if id(module) in first:
                        entry["shared"].append([name, first[id(module)]])
                    else:
                        first[id(module)] = name
            entry["desc"] = describe_module(net, inputs={f"x_{case}": (4, sizes[0])})
        found.append(entry)
    return found


def _probe_model(sub):
    # Linear layers both wider and narrower than their input, at two depths of nesting.
    a = 96 + sub.inputs.seed_for("init:a") % 32
    b = 24 + sub.inputs.seed_for("init:b") % 8
    return nn.Sequential(
        OrderedDict(
            encoder=nn.Sequential(nn.Linear(a, b), nn.LayerNorm(b), nn.ReLU()),
            embed=nn.Embedding(7, 6),
            decoder=nn.ModuleList([nn.Sequential(nn.Linear(b, a), nn.ReLU())]),
        )
    )


def _stats(weight):
    w = weight.detach().double().reshape(-1)
    mean, var = w.mean(), w.var(unbiased=False)
    # Excess kurtosis: about 0 for a normal distribution, -1.2 for a uniform one.
    kurtosis = float(((w - mean) ** 4).mean() / var**2 - 3.0) if var > 0 else None
    return {"mean": float(mean), "std": float(w.std()), "kurtosis": kurtosis}


@observation("init")
def init(sub):
    # The probe's model, every parameter set to seeded values, then `model.apply(init_weights)`.
    init_weights = sub.function("init_weights")
    net = _probe_model(sub)
    with torch.no_grad():
        for i, (_, p) in enumerate(net.named_parameters()):
            p.copy_(sub.inputs.fill(f"init:param:{i}", *p.shape))
    before = {name: p for name, p in net.named_parameters()}
    torch.manual_seed(sub.inputs.seed_for("init:seed"))
    net.apply(init_weights)
    after = dict(net.named_parameters())
    report = {
        "replaced": [name for name, p in before.items() if after.get(name) is not p],
        "linear": {},
        "layernorm": {},
        "embedding": {},
    }
    for name, m in net.named_modules():
        if isinstance(m, nn.Linear):
            w, b = m.weight, m.bias
            report["linear"][name] = {
                "in": m.in_features,
                "out": m.out_features,
                "shape": list(w.shape) if isinstance(w, torch.Tensor) else None,
                **(_stats(w) if isinstance(w, torch.Tensor) and w.numel() > 1 else {}),
                "bias": b.detach().clone() if isinstance(b, torch.Tensor) else None,
            }
        elif isinstance(m, nn.LayerNorm):
            report["layernorm"][name] = {"weight": m.weight.detach().clone(), "bias": m.bias.detach().clone()}
        elif isinstance(m, nn.Embedding):
            report["embedding"][name] = m.weight.detach().clone()
    return report


@observation("model_biases")
def model_biases(sub):
    # Whether every nn.Linear bias of the program's `model` holds only zeros.
    model = sub.ns.get("model")
    if not isinstance(model, nn.Module):
        return None
    return {
        name: bool((m.bias == 0).all())
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) and isinstance(m.bias, torch.Tensor)
    }


@observation("model_weights")
def model_weights(sub):
    # in_features and the weight's standard deviation of every nn.Linear of the program's `model`.
    model = sub.ns.get("model")
    if not isinstance(model, nn.Module):
        return None
    return {
        name: {"in": m.in_features, "std": float(m.weight.detach().double().std())}
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear)
    }
