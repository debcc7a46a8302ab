"""Checks for the sensor-log exercise: to_kelvin, timeline and noise_like.

Judged on the server from what probe.py observed. Inputs are drawn from the
submission's seed; values are compared with the reference solution's on the same inputs.
"""

from questlab.grading.judge import check, expect_close, expect_tensor, fail


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


def expect_dtype(tensor, dtype, call):
    if tensor.dtype != dtype:
        fail(en="`{call}` returns a tensor of dtype `torch.{actual}`; it should be `torch.{expected}`.",
             ko="`{call}`의 반환값 dtype이 `torch.{actual}`입니다. `torch.{expected}`여야 합니다.",
             call=call, actual=tensor.dtype, expected=dtype)


@check("to_kelvin_values", aspect="forward")
def to_kelvin_values(obs):
    got = expect_tensor(returned(obs, "kelvin", "to_kelvin(celsius)"), "`to_kelvin(celsius)`")
    expect_close(got, obs.reference("kelvin")["value"], what="`to_kelvin(celsius)`", atol=1e-3, rtol=1e-6)


@check("to_kelvin_dtype", aspect="forward")
def to_kelvin_dtype(obs):
    got = expect_tensor(returned(obs, "kelvin", "to_kelvin(celsius)"), "`to_kelvin(celsius)`")
    expect_dtype(got, "float32", "to_kelvin(celsius)")


@check("to_kelvin_keeps_input", aspect="state",
       en="After `to_kelvin(celsius)` the caller's `celsius` array holds different values: "
          "the function must not change its input.",
       ko="`to_kelvin(celsius)`를 호출하고 나니 호출한 쪽의 `celsius` 배열 값이 바뀌어 있습니다. "
          "함수는 입력을 바꾸면 안 됩니다.")
def to_kelvin_keeps_input(obs):
    after = expect_tensor(obs["celsius_after"], "`celsius`")
    if not after.close(obs.reference("celsius_after"), atol=0.0, rtol=0.0):
        fail()


@check("timeline", aspect="forward")
def timeline(obs):
    got = expect_tensor(returned(obs, "timeline", "timeline(n, duration)"), "`timeline(n, duration)`")
    expect_close(got, obs.reference("timeline")["value"], what="`timeline(n, duration)`", atol=1e-5, rtol=1e-5)
    expect_dtype(got, "float32", "timeline(n, duration)")


@check("noise_shape_and_dtype", aspect="forward")
def noise_shape_and_dtype(obs):
    got = expect_tensor(returned(obs, "noise", "noise_like(x, seed)"), "`noise_like(x, seed)`")
    want = obs.reference("noise")["value"]
    if got.shape != want.shape:
        fail("wrong_shape", what="`noise_like(x, seed)`", actual=str(got.shape), expected=str(want.shape))
    expect_dtype(got, want.dtype, "noise_like(x, seed)")


@check("noise_reproducible", aspect="forward",
       en="Two calls of `noise_like(x, seed)` with the same seed return different noise.",
       ko="같은 seed로 `noise_like(x, seed)`를 두 번 부르면 서로 다른 noise가 나옵니다.")
def noise_reproducible(obs):
    same = obs["noise_repeat"]
    if same is None:
        fail(en="`noise_like(x, seed)` does not return a tensor, so its noise cannot be compared.",
             ko="`noise_like(x, seed)`가 tensor를 돌려주지 않아서 noise를 비교할 수 없습니다.")
    if same is not True:
        fail()


@check("noise_distribution", aspect="forward")
def noise_distribution(obs):
    stats = returned(obs, "noise_stats", "noise_like(torch.zeros(64, 64), seed)")
    if isinstance(stats, str):
        fail("not_a_tensor", what="`noise_like(torch.zeros(64, 64), seed)`", kind=stats)
    if not isinstance(stats, dict) or not all(isinstance(stats.get(k), float) for k in ("mean", "std", "min")):
        fail("observation_malformed", what="noise statistics")
    # 4,096 draws from N(0, 1): the mean is within 0.1 of 0 and the standard deviation within
    # 0.1 of 1 except with a probability far below one in a million; some draws are negative.
    if abs(stats["mean"]) > 0.1 or abs(stats["std"] - 1) > 0.1 or stats["min"] >= 0:
        fail(en="4,096 draws of `noise_like` have mean {mean:.3f}, standard deviation {std:.3f} and "
                "minimum {min:.3f}; draws from N(0, 1) have a mean near 0, a standard deviation near 1, "
                "and negative values.",
             ko="`noise_like`로 뽑은 4,096개 값의 평균이 {mean:.3f}, 표준편차가 {std:.3f}, 최솟값이 "
                "{min:.3f}입니다. N(0, 1)에서 뽑은 값은 평균이 0, 표준편차가 1에 가깝고 음수도 나옵니다.",
             mean=stats["mean"], std=stats["std"], min=stats["min"])
