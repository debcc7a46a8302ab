"""Checks for the class-scores exercise: true_class_scores, rows_of_class and count_confident.

Judged on the server from what probe.py observed; results are compared with the
reference solution's on the same seeded scores and labels.
"""

from questlab.grading.judge import Tensor, check, expect_tensor, fail


def sentence(text):
    """``text`` ending in a full stop, so that a diagnosis can follow it."""
    text = str(text).strip()
    return text if not text or text[-1] in ".!?" else text + "."


def returned(obs, name, call):
    """The value the learner's function returned for observation ``name``; fails if it raised."""
    seen = obs[name]
    if not isinstance(seen, dict) or not ("value" in seen or "raised" in seen):
        fail("observation_malformed", what=name)
    if "raised" in seen:
        fail(en="Calling `{call}` raised {error}: {message}",
             ko="`{call}` 호출 중에 {error} 오류가 났습니다: {message}",
             call=call, error=str(seen["raised"]), message=sentence(seen.get("message", "")))
    return seen["value"]


def expect_same(obs, name, call):
    """Fail unless the returned tensor has the reference's shape and exactly its values."""
    got = expect_tensor(returned(obs, name, call), f"`{call}`")
    want = obs.reference(name)["value"]
    if got.shape != want.shape:
        fail("wrong_shape", what=f"`{call}`", actual=str(got.shape), expected=str(want.shape))
    if not got.close(want, atol=0.0, rtol=0.0):
        fail(en="`{call}` has the right shape {shape}, but it picked the wrong values.",
             ko="`{call}`의 shape {shape}은 맞지만 엉뚱한 값을 골랐습니다.",
             call=call, shape=str(got.shape))


@check("true_class_scores", aspect="forward")
def true_class_scores(obs):
    expect_same(obs, "true_class_scores", "true_class_scores(scores, labels)")


@check("rows_of_class", aspect="forward")
def rows_of_class(obs):
    expect_same(obs, "rows_of_class", "rows_of_class(scores, labels, k)")


@check("count_confident", aspect="forward")
def count_confident(obs):
    got = returned(obs, "count_confident", "count_confident(scores, labels, threshold)")
    want = obs.reference("count_confident")["value"]
    if isinstance(got, Tensor):
        fail(en="`count_confident` returns a tensor of shape {shape}; it should return a Python `int`.",
             ko="`count_confident`가 shape {shape}인 tensor를 돌려줍니다. Python `int`를 돌려줘야 합니다.",
             shape=str(got.shape))
    if not isinstance(got, int) or isinstance(got, bool):
        fail(en="`count_confident` returns a {kind}; it should return a Python `int`.",
             ko="`count_confident`가 {kind}을(를) 돌려줍니다. Python `int`를 돌려줘야 합니다.",
             kind=type(got).__name__)
    if got != want:
        fail("wrong_value", what="`count_confident(scores, labels, threshold)`", actual=repr(got), expected=repr(want))
