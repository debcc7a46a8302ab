"""Checks for the image-layout exercise: to_nhwc, to_nchw and flatten_per_sample.

Judged on the server from what probe.py observed; outputs are compared with the
reference solution's on the same seeded batches (H and W always differ).
"""

from questlab.grading.judge import check, expect_tensor, fail


def sentence(text):
    """``text`` ending in a full stop, so that a diagnosis can follow it."""
    text = str(text).strip()
    return text if not text or text[-1] in ".!?" else text + "."


def returned(obs, name, call, case=""):
    """The tensor the learner's function returned for observation ``name``; fails if it raised.

    ``call`` is the call as code, ``case`` what is special about the input (e.g. `` (N = 1)``).
    """
    seen = obs[name]
    if not isinstance(seen, dict) or not ("value" in seen or "raised" in seen):
        fail("observation_malformed", what=name)
    if "raised" in seen:
        fail(en="Calling `{call}`{case} raised {error}: {message}",
             ko="`{call}`{case} 호출 중에 {error} 오류가 났습니다: {message}",
             call=call, case=case, error=str(seen["raised"]), message=sentence(seen.get("message", "")))
    return expect_tensor(seen["value"], f"`{call}`{case}")


def expect_same(obs, name, call, case=""):
    """Fail unless the returned tensor has the reference's shape and every value in its place."""
    got = returned(obs, name, call, case)
    want = obs.reference(name)["value"]
    if got.shape != want.shape:
        fail("wrong_shape", what=f"`{call}`{case}", actual=str(got.shape), expected=str(want.shape))
    if not got.close(want, atol=0.0, rtol=0.0):
        fail(en="`{call}`{case} has the right shape {shape}, but its values are not where they belong: "
                "the pixels have been scrambled.",
             ko="`{call}`{case}의 shape {shape}은 맞지만 값이 제자리에 있지 않습니다. pixel이 뒤섞였습니다.",
             call=call, case=case, shape=str(got.shape))


@check("to_nhwc", aspect="forward")
def to_nhwc(obs):
    expect_same(obs, "to_nhwc", "to_nhwc(x)")


@check("to_nhwc_batch_of_one", aspect="forward")
def to_nhwc_batch_of_one(obs):
    expect_same(obs, "to_nhwc_one", "to_nhwc(x)", " (N = 1)")


@check("to_nchw", aspect="forward")
def to_nchw(obs):
    expect_same(obs, "to_nchw", "to_nchw(x)")


@check("flatten", aspect="forward")
def flatten(obs):
    expect_same(obs, "flatten", "flatten_per_sample(x)")


@check("flatten_non_contiguous", aspect="forward")
def flatten_non_contiguous(obs):
    expect_same(obs, "flatten_strided", "flatten_per_sample(x)", " (non-contiguous x)")


@check("flatten_batch_of_one", aspect="forward")
def flatten_batch_of_one(obs):
    expect_same(obs, "flatten_one", "flatten_per_sample(x)", " (N = 1)")
