"""Checks for the reductions exercise: softmax and a stable log-softmax over the last dim.

Judged on the server from what probe.py observed, against the reference solution's
observations on the same seeded inputs (the reference agrees with torch.softmax and
torch.log_softmax).
"""

import ast
import math

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


def when_not_finite(hint):
    """``hint`` for a result that holds inf or nan, else nothing."""
    return lambda value: hint if any(not math.isfinite(float(v)) for v in value.values) else None


def when_all_ones(hint):
    """``hint`` for a result whose values are all 1.0, else nothing."""
    return lambda value: hint if all(float(v) == 1.0 for v in value.values) else None


@check("softmax", aspect="forward")
def softmax(obs):
    expect_same_result(obs, "softmax_batch", {
        "en": "`softmax(logits)` with logits (5, 4)",
        "ko": "logits가 (5, 4)일 때 `softmax(logits)`",
    }, hint={
        "en": "Each sample's probabilities over its classes (the last dim) must add up to 1.",
        "ko": "sample마다 class(마지막 dim)에 걸친 확률의 합이 1이어야 합니다.",
    })


@check("softmax_single_sample", aspect="forward")
def softmax_single_sample(obs):
    expect_same_result(obs, "softmax_single", {
        "en": "`softmax(logits)` with a single sample, logits (1, 6)",
        "ko": "logits가 sample 하나짜리 (1, 6)일 때 `softmax(logits)`",
    }, hint=when_all_ones({
        "en": "Every value is 1.0: the softmax runs over the batch dim instead of the classes.",
        "ko": "값이 모두 1.0입니다. softmax가 class가 아니라 batch dim을 따라 계산되었습니다.",
    }))


@check("softmax_leading_dims", aspect="forward")
def softmax_leading_dims(obs):
    expect_same_result(obs, "softmax_sequence", {
        "en": "`softmax(logits)` with logits (2, 3, 5)",
        "ko": "logits가 (2, 3, 5)일 때 `softmax(logits)`",
    }, hint={
        "en": "The classes are the last dim whatever comes before them: use `dim=-1`.",
        "ko": "앞에 dim이 몇 개 있든 class는 마지막 dim입니다. `dim=-1`을 쓰세요.",
    })


@check("softmax_large_logits", aspect="forward")
def softmax_large_logits(obs):
    expect_same_result(obs, "softmax_large", {
        "en": "`softmax(logits)` with logits around 1000, (4, 6)",
        "ko": "logits가 1000 근처의 (4, 6)일 때 `softmax(logits)`",
    }, hint=when_not_finite({
        "en": "The result holds inf or nan: subtract each row's maximum before `exp`.",
        "ko": "결과에 inf나 nan이 있습니다. `exp` 전에 행마다 최댓값을 빼세요.",
    }))


@check("log_softmax", aspect="forward")
def log_softmax(obs):
    expect_same_result(obs, "log_softmax_batch", {
        "en": "`log_softmax(logits)` with logits (5, 4)",
        "ko": "logits가 (5, 4)일 때 `log_softmax(logits)`",
    })
    expect_same_result(obs, "log_softmax_sequence", {
        "en": "`log_softmax(logits)` with logits (2, 3, 5)",
        "ko": "logits가 (2, 3, 5)일 때 `log_softmax(logits)`",
    })


@check("log_softmax_large_logits", aspect="forward")
def log_softmax_large_logits(obs):
    # Values here are up to a few hundred in size: a looser absolute tolerance for float32.
    expect_same_result(obs, "log_softmax_large", {
        "en": "`log_softmax(logits)` with logits around 1000, (4, 6)",
        "ko": "logits가 1000 근처의 (4, 6)일 때 `log_softmax(logits)`",
    }, atol=1e-3, hint=when_not_finite({
        "en": "The result holds inf or nan, but the exact answers are finite, even for a class 300 below "
        "the others: shift by the maximum and stay in log space, `shifted - log(sum(exp(shifted)))`.",
        "ko": "결과에 inf나 nan이 있지만, 다른 class보다 300 작은 class도 정확한 답은 유한한 값입니다. "
        "최댓값만큼 shift하고 log 공간에서 계산하세요: `shifted - log(sum(exp(shifted)))`.",
    }))


_BUILT_IN = {"softmax", "log_softmax", "logsumexp", "Softmax", "LogSoftmax"}


@check("own_implementation", aspect="structure")
def own_implementation(obs):
    try:
        tree = ast.parse(obs.source)
    except SyntaxError:
        return  # a program that does not parse is answered before any check runs
    for func in ast.walk(tree):
        if not (isinstance(func, ast.FunctionDef) and func.name in ("softmax", "log_softmax")):
            continue
        for node in ast.walk(func):
            # Attribute access only (torch.softmax, F.log_softmax, x.logsumexp): calling your
            # own softmax() by name is fine.
            if isinstance(node, ast.Attribute) and node.attr in _BUILT_IN:
                fail(
                    en="`{function}` uses `{used}` (line {line}). Build it yourself from `max`, `exp`, `sum` "
                    "and `log`; torch's version is only for comparing.",
                    ko="`{function}` 안에서 `{used}`를 씁니다 ({line}번째 줄). `max`, `exp`, `sum`, `log`로 "
                    "직접 만드세요. torch의 함수는 비교할 때만 씁니다.",
                    function=func.name, used=ast.unparse(node), line=node.lineno,
                )
