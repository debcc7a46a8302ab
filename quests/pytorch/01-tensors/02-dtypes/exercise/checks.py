"""Checks for the image preprocessing exercise: blend and to_unit on random uint8 images.

Judged on the server from what probe.py observed; values are compared with the
reference solution's on the same seeded images.
"""

from questlab.grading.judge import check, expect_tensor, fail


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
    return expect_tensor(seen["value"], f"`{call}`")


def expect_dtype(tensor, dtype, call):
    if tensor.dtype != dtype:
        fail(en="`{call}` returns a tensor of dtype `torch.{actual}`; it should be `torch.{expected}`.",
             ko="`{call}`의 반환값 dtype이 `torch.{actual}`입니다. `torch.{expected}`여야 합니다.",
             call=call, actual=tensor.dtype, expected=dtype)


def expect_pixels(obs, name, call, atol, en, ko):
    """Fail at the first pixel whose value is farther than ``atol`` from the reference's, showing
    that pixel's inputs (``{a}``, ``{b}`` or ``{img}``), the value returned (``{got}``) and the
    expected one (``{want}``) in the sentence ``en``/``ko``."""
    got = returned(obs, name, call)
    reference = obs.reference(name)
    want = reference["value"]
    if got.shape != want.shape:
        fail("wrong_shape", what=f"`{call}`", actual=str(got.shape), expected=str(want.shape))
    for i, (g, w) in enumerate(zip(got.values, want.values)):
        if not abs(float(g) - float(w)) <= atol:
            pixel = {key: expect_tensor(value, key).values[i] for key, value in reference["inputs"].items()}
            fail(en=en, ko=ko, got=float(g), want=float(w), **pixel)
    return got


@check("blend_values", aspect="forward")
def blend_values(obs):
    expect_pixels(obs, "blend", "blend(a, b)", 1e-4,
                  en="Where a = {a} and b = {b}, `blend(a, b)` gives {got:g}, but their average is {want:g}.",
                  ko="a = {a}, b = {b}인 pixel에서 `blend(a, b)`의 결과는 {got:g}인데, 두 값의 평균은 {want:g}입니다.")


@check("blend_dtype", aspect="forward")
def blend_dtype(obs):
    expect_dtype(returned(obs, "blend", "blend(a, b)"), "float32", "blend(a, b)")


@check("to_unit_values", aspect="forward")
def to_unit_values(obs):
    expect_pixels(obs, "to_unit", "to_unit(img)", 1e-6,
                  en="Where img = {img}, `to_unit(img)` gives {got:g}, but {img} / 255 is {want:.4f}.",
                  ko="img = {img}인 pixel에서 `to_unit(img)`의 결과는 {got:g}인데, {img} / 255는 {want:.4f}입니다.")


@check("to_unit_dtype", aspect="forward")
def to_unit_dtype(obs):
    expect_dtype(returned(obs, "to_unit", "to_unit(img)"), "float32", "to_unit(img)")
