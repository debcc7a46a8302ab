"""Checks for the broadcasting exercise: pairwise distances and an MSE with (N, 1) predictions.

Judged on the server from what probe.py observed, against the reference solution's
observations on the same seeded inputs.
"""

import ast

from questlab.grading.judge import Tensor, check, fail


def _sentence(text):
    """``text`` ending in a full stop, so that a diagnosis can follow it."""
    text = str(text or "").strip()
    return text if not text or text[-1] in ".!?" else text + "."


def expect_same_result(obs, name, call, atol=1e-5, rtol=1e-4, hint=None):
    """Fail unless observation ``name`` is a tensor equal to the reference's.

    ``call`` is ``{"en": ..., "ko": ...}``: how the sentences name the call that was observed;
    ``hint`` (same form, or a function of the observed tensor returning one or ``None``) is
    added to a failure about the values. Values that come from the program are passed as
    parameters, never pasted into the sentence.
    """
    value = obs[name]
    expected = obs.reference(name)
    en, ko = call["en"], call["ko"]
    if isinstance(value, dict) and "raised" in value:
        fail(en=en + " raised {error}: {message}", ko=ko + "에서 {error} 오류가 났습니다: {message}",
             error=str(value["raised"]), message=_sentence(value.get("message")))
    if not isinstance(value, Tensor):
        fail(en=en + " returned a {kind}, not a tensor.", ko=ko + "의 결과가 tensor가 아니라 {kind}입니다.",
             kind=type(value).__name__)
    if value.shape != expected.shape:
        fail(en=en + " returned shape {actual}; it should be {expected}.",
             ko=ko + "의 결과 shape이 {actual}입니다. {expected}이어야 합니다.",
             actual=str(tuple(value.shape)), expected=str(tuple(expected.shape)))
    if not value.close(expected, atol, rtol):
        if callable(hint):
            hint = hint(value)
        fail(en=en + " returned values that differ from the expected ones (largest difference {diff:.3g})."
             + (" " + hint["en"] if hint else ""),
             ko=ko + "의 결과 값이 기대한 값과 다릅니다 (가장 큰 차이 {diff:.3g})." + (" " + hint["ko"] if hint else ""),
             diff=value.max_diff(expected))


@check("distances", aspect="forward")
def distances(obs):
    expect_same_result(obs, "distances", {
        "en": "`pairwise_distances(a, b)` with a (5, 3) and b (4, 3)",
        "ko": "a가 (5, 3), b가 (4, 3)일 때 `pairwise_distances(a, b)`",
    })


@check("distances_square", aspect="forward")
def distances_square(obs):
    expect_same_result(obs, "distances_square", {
        "en": "`pairwise_distances(a, b)` with a (4, 4) and b (4, 4)",
        "ko": "a와 b가 (4, 4)일 때 `pairwise_distances(a, b)`",
    }, hint={
        "en": "With square inputs a wrong axis raises no error: check which axis each new `None` goes in.",
        "ko": "정사각형 입력에서는 축을 잘못 골라도 에러가 나지 않습니다. `None`을 어느 자리에 넣었는지 확인하세요.",
    })


@check("mse", aspect="forward")
def mse(obs):
    expect_same_result(obs, "mse", {
        "en": "`mse(pred, target)` with pred (6, 1) and target (6,)",
        "ko": "pred가 (6, 1), target이 (6,)일 때 `mse(pred, target)`",
    })


_LOOPS = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@check("no_loops", aspect="structure")
def no_loops(obs):
    try:
        tree = ast.parse(obs.source)
    except SyntaxError:
        return  # a program that does not parse is answered before any check runs
    for func in ast.walk(tree):
        if not (isinstance(func, ast.FunctionDef) and func.name == "pairwise_distances"):
            continue
        for node in ast.walk(func):
            if isinstance(node, _LOOPS):
                fail(
                    en="`pairwise_distances` uses a loop (line {line}). Let broadcasting make the pairs: "
                    "`a[:, None, :] - b[None, :, :]`.",
                    ko="`pairwise_distances`에 loop가 있습니다 ({line}번째 줄). 쌍을 만드는 일은 "
                    "broadcasting에 맡기세요: `a[:, None, :] - b[None, :, :]`.",
                    line=node.lineno,
                )
            if isinstance(node, ast.Attribute) and node.attr == "cdist":
                fail(
                    en="`pairwise_distances` calls `cdist` (line {line}). Compute the distances yourself "
                    "with broadcasting.",
                    ko="`pairwise_distances`에서 `cdist`를 부릅니다 ({line}번째 줄). 거리는 broadcasting으로 "
                    "직접 계산하세요.",
                    line=node.lineno,
                )
