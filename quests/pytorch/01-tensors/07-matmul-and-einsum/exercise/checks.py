"""Checks for the matmul-and-einsum exercise: attention scores with @ and with einsum.

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


SQUARE = {
    "en": "Note that with every dim the same size, a wrong transpose or `*` instead of `@` raises no error: "
    "only the values show it.",
    "ko": "모든 dim의 크기가 같으면 transpose를 잘못하거나 `@` 대신 `*`를 써도 에러가 나지 않고 값만 틀립니다.",
}

INPUTS = {
    "batched": ("q (2, 5, 4) and k (2, 3, 4)", "q가 (2, 5, 4), k가 (2, 3, 4)"),
    "heads": ("q (2, 3, 5, 4) and k (2, 3, 6, 4)", "q가 (2, 3, 5, 4), k가 (2, 3, 6, 4)"),
    "cube": ("q (3, 3, 3) and k (3, 3, 3)", "q와 k가 (3, 3, 3)"),
}


def scores(obs, function, kind, hint=None):
    en, ko = INPUTS[kind]
    expect_same_result(obs, f"{function.split('_')[1]}_{kind}", {
        "en": f"`{function}(q, k)` with {en}",
        "ko": f"{ko}일 때 `{function}(q, k)`",
    }, hint=hint)


@check("matmul_batched", aspect="forward")
def matmul_batched(obs):
    scores(obs, "scores_matmul", "batched")


@check("matmul_heads", aspect="forward")
def matmul_heads(obs):
    scores(obs, "scores_matmul", "heads")


@check("matmul_square", aspect="forward")
def matmul_square(obs):
    scores(obs, "scores_matmul", "cube", hint=SQUARE)


@check("einsum_batched", aspect="forward")
def einsum_batched(obs):
    scores(obs, "scores_einsum", "batched")


@check("einsum_heads", aspect="forward")
def einsum_heads(obs):
    scores(obs, "scores_einsum", "heads")


@check("einsum_square", aspect="forward")
def einsum_square(obs):
    scores(obs, "scores_einsum", "cube")


def _calls(func):
    """Names of what ``func`` calls (``torch.einsum`` -> ``einsum``) and whether it uses ``@``."""
    names = set()
    uses_at = False
    for node in ast.walk(func):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            uses_at = True
        if isinstance(node, ast.Call):
            target = node.func
            if isinstance(target, ast.Attribute):
                names.add(target.attr)
            elif isinstance(target, ast.Name):
                names.add(target.id)
    return names, uses_at


@check("each_way", aspect="structure")
def each_way(obs):
    try:
        tree = ast.parse(obs.source)
    except SyntaxError:
        return  # a program that does not parse is answered before any check runs
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef):
            continue
        names, uses_at = _calls(func)
        if func.name == "scores_matmul" and "einsum" in names:
            fail(
                en="`scores_matmul` should multiply with `@` (or `torch.matmul`), not with einsum.",
                ko="`scores_matmul`은 einsum이 아니라 `@`(또는 `torch.matmul`)로 곱해야 합니다.",
            )
        if func.name == "scores_matmul" and not (uses_at or names & {"matmul", "bmm"}):
            fail(
                en="`scores_matmul` uses neither `@` nor `torch.matmul`: the scores are a matrix product.",
                ko="`scores_matmul`에 `@`도 `torch.matmul`도 없습니다. 점수는 행렬곱으로 계산합니다.",
            )
        if func.name == "scores_einsum" and "einsum" not in names:
            fail(
                en="`scores_einsum` should compute the scores with one `torch.einsum` call.",
                ko="`scores_einsum`은 `torch.einsum` 한 번으로 점수를 계산해야 합니다.",
            )
