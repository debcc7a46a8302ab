"""Checks for the memory-and-devices exercise: a device-agnostic standardize and plain-number stats.

Judged on the server from what probe.py observed, against the reference solution's
observations on the same seeded inputs. The probe only uses the "cpu" and "meta"
devices, so no verdict depends on the grader's hardware.
"""

from questlab.grading.judge import Tensor, check, fail
from questlab.grading.judge.wire import same


def _sentence(text):
    """``text`` ending in a full stop, so that a diagnosis can follow it."""
    text = str(text or "").strip()
    return text if not text or text[-1] in ".!?" else text + "."


def no_error(value, call):
    """Fail with the error a call raised, if it raised."""
    if isinstance(value, dict) and "raised" in value:
        fail(en=call["en"] + " raised {error}: {message}", ko=call["ko"] + "에서 {error} 오류가 났습니다: {message}",
             error=str(value["raised"]), message=_sentence(value.get("message")))


def expect_same_tensor(value, expected, call, atol=1e-5, rtol=1e-4):
    """Fail unless ``value`` is a tensor with ``expected``'s shape and values."""
    no_error(value, call)
    en, ko = call["en"], call["ko"]
    if not isinstance(value, Tensor):
        fail(en=en + " returned a {kind}, not a tensor.", ko=ko + "의 결과가 tensor가 아니라 {kind}입니다.",
             kind=type(value).__name__)
    if value.shape != expected.shape:
        fail(en=en + " returned shape {actual}; it should be {expected}.",
             ko=ko + "의 결과 shape이 {actual}입니다. {expected}이어야 합니다.",
             actual=str(tuple(value.shape)), expected=str(tuple(expected.shape)))
    if not value.close(expected, atol, rtol):
        fail(en=en + " returned values that differ from the expected ones (largest difference {diff:.3g}).",
             ko=ko + "의 결과 값이 기대한 값과 다릅니다 (가장 큰 차이 {diff:.3g}).",
             diff=value.max_diff(expected))


def part(observation, key):
    """``observation[key]`` of a probe's dict, failing cleanly when the shape is not the probe's."""
    if not isinstance(observation, dict) or key not in observation:
        fail("observation_malformed", what=key)
    return observation[key]


CPU = {"en": '`standardize(x, "cpu")` with x (6, 3)', "ko": 'x가 (6, 3)일 때 `standardize(x, "cpu")`'}
GRAD = {
    "en": '`standardize(x, "cpu")` with an x (4, 3) that requires grad',
    "ko": 'x가 requires_grad인 (4, 3)일 때 `standardize(x, "cpu")`',
}
META = {"en": '`standardize(x, "meta")` with x (5, 2)', "ko": 'x가 (5, 2)일 때 `standardize(x, "meta")`'}
STATS = {"en": "`column_stats(x)` with x (7, 3)", "ko": "x가 (7, 3)일 때 `column_stats(x)`"}


@check("standardized", aspect="forward")
def standardized(obs):
    got = obs["standardize_cpu"]
    expected = part(obs.reference("standardize_cpu"), "result")
    expect_same_tensor(part(got, "result"), expected, CPU)


@check("input_unchanged", aspect="state")
def input_unchanged(obs):
    got = obs["standardize_cpu"]
    expected = obs.reference("standardize_cpu")
    no_error(part(got, "result"), CPU)
    if not same(part(got, "input_after"), part(expected, "input_after")):
        fail(
            en=f"{CPU['en']} changed the caller's x; it must leave x as it was. Look for in-place operations "
            "(`-=`, `/=`, `sub_`, `x[...] = ...`) on x or on a tensor that shares its memory: `x.to(device)` "
            "when x is already there, `x.detach()`, a view.",
            ko=f"{CPU['ko']}가 호출한 쪽의 x를 바꿨습니다. x는 그대로 두어야 합니다. x나 x와 메모리를 공유하는 "
            "tensor(이미 그 device에 있을 때의 `x.to(device)`, `x.detach()`, view)에 in-place 연산(`-=`, `/=`, "
            "`sub_`, `x[...] = ...`)을 하지 않았는지 보세요.",
        )
    if part(got, "shares_memory") is True:
        fail(
            en=f"{CPU['en']} returned a tensor that shares memory with x: return a new tensor.",
            ko=f"{CPU['ko']}의 결과가 x와 메모리를 공유합니다. 새 tensor를 돌려주세요.",
        )


@check("keeps_grad", aspect="state")
def keeps_grad(obs):
    got = obs["standardize_grad"]
    expected = obs.reference("standardize_grad")
    result = part(got, "result")
    no_error(result, GRAD)
    if not same(part(got, "input_after"), part(expected, "input_after")):
        fail(
            en=f"{GRAD['en']} changed x. `detach()` is not a copy: it shares x's memory, so changing it in "
            "place changes x.",
            ko=f"{GRAD['ko']}가 x를 바꿨습니다. `detach()`는 복사가 아니라 x와 메모리를 공유하므로, 그것을 "
            "in-place로 바꾸면 x가 바뀝니다.",
        )
    if not same(result, part(expected, "result")):
        fail(
            en=f"{GRAD['en']} returned a tensor outside the autograd graph: don't `detach()` it, so that "
            "gradients can flow back to x.",
            ko=f"{GRAD['ko']}의 결과가 autograd graph 밖에 있습니다. gradient가 x로 흐르도록 `detach()`하지 마세요.",
        )


@check("moves_to_device", aspect="state")
def moves_to_device(obs):
    got = obs["standardize_meta"]
    expected = obs.reference("standardize_meta")
    no_error(got, META)
    if not same(got, expected):
        device = got.get("device") if isinstance(got, dict) else None
        fail(en=META["en"] + " returned a tensor on `{device}`, not on `meta`: move x with `x.to(device)` "
             "before computing.",
             ko=META["ko"] + "의 결과가 `meta`가 아니라 `{device}`에 있습니다. 계산하기 전에 `x.to(device)`로 "
             "옮기세요.",
             device=str(device))


@check("stats_are_floats", aspect="output")
def stats_are_floats(obs):
    got = obs["stats"]
    no_error(got, STATS)
    kinds = part(got, "kinds")
    expected = part(obs.reference("stats"), "kinds")
    for key in ("mean", "std"):
        if not isinstance(kinds, dict) or kinds.get(key) != expected[key]:
            actual = kinds.get(key) if isinstance(kinds, dict) else "?"
            article = "an" if str(actual)[:1].lower() in "aeiou" else "a"
            fail(en=STATS["en"] + " returned `{field}` as {article} {actual}; it should be a list of Python floats: "
                 "`.tolist()`.",
                 ko=STATS["ko"] + "의 `{field}` 값이 {actual}입니다. Python float의 list여야 합니다: `.tolist()`.",
                 field=key, article=article, actual=str(actual))


@check("stats_values", aspect="output")
def stats_values(obs):
    got = obs["stats"]
    no_error(got, STATS)
    values = part(got, "values")
    expected = part(obs.reference("stats"), "values")
    for key in ("mean", "std"):
        if not isinstance(values, dict) or not same(values.get(key), expected[key]):
            fail(en=STATS["en"] + " returned a `{field}` that differs from the per-column {field} of x "
                 "(`x.{field}(dim=0)`).",
                 ko=STATS["ko"] + "의 `{field}` 값이 `x.{field}(dim=0)`으로 구한 열별 값과 다릅니다.",
                 field=key)
