"""Observations for the memory-and-devices exercise (runs in the sandbox after the program; holds no answers).

Every call names its device explicitly ("cpu" or "meta"), so what is observed does not
depend on whether the machine running the checks has a GPU.
"""

import torch

from questlab.grading.sandbox import observation


def attempt(func, *args):
    # A call that raises is reported by its error alone, without a line number, so the
    # same mistake looks the same in every program that makes it.
    try:
        return func(*args)
    except Exception as exc:
        return {"raised": type(exc).__name__, "message": str(exc)[:300]}


def shares_memory(a, b):
    return isinstance(a, torch.Tensor) and a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


@observation("standardize_cpu")
def standardize_cpu(sub):
    # On the CPU, x.to("cpu") is x itself: an in-place change would reach the caller's x.
    x = sub.inputs.randn("x", 6, 3)
    result = attempt(sub.function("standardize"), x, "cpu")
    return {"result": result, "input_after": x.clone(), "shares_memory": shares_memory(result, x)}


@observation("standardize_grad")
def standardize_grad(sub):
    x = sub.inputs.randn("x_grad", 4, 3).requires_grad_()
    result = attempt(sub.function("standardize"), x, "cpu")
    if isinstance(result, torch.Tensor):
        result = {"requires_grad": result.requires_grad}
    return {"result": result, "input_after": x.detach().clone()}


@observation("standardize_meta")
def standardize_meta(sub):
    # The meta device has shapes but no data: a device move that works without a GPU.
    result = attempt(sub.function("standardize"), sub.inputs.randn("x_meta", 5, 2), "meta")
    if isinstance(result, torch.Tensor):
        return {"device": result.device.type, "shape": list(result.shape)}
    if isinstance(result, dict):
        return result
    return {"kind": type(result).__name__}


def kind(value):
    if isinstance(value, list):
        inner = sorted({type(v).__name__ for v in value})
        return "list of " + " and ".join(inner) if inner else "empty list"
    return type(value).__name__


@observation("stats")
def stats(sub):
    result = attempt(sub.function("column_stats"), sub.inputs.randn("x_stats", 7, 3))
    if not isinstance(result, dict) or "raised" in result:
        return result if isinstance(result, dict) else {"kind": type(result).__name__}
    out = {"keys": sorted(str(k) for k in result), "kinds": {}, "values": {}}
    for key in ("mean", "std"):
        value = result.get(key)
        out["kinds"][key] = kind(value)
        if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
            out["values"][key] = [float(v) for v in value]
        elif isinstance(value, torch.Tensor):
            out["values"][key] = value.detach().cpu().reshape(-1).tolist()
    return out
