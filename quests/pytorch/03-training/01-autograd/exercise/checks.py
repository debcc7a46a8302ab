"""Checks for the autograd exercise: gradient_step(w, x, y, lr) takes one gradient-descent step.

Judged on the server from what probe.py observed: the learner's gradient_step is called twice
in a row on a scalar w, data and a learning rate drawn from this submission's seed, and each
part of what it did is compared with what the reference solution did on the same draw.
"""

from questlab.grading.judge import CheckFailed, Tensor, check, expect_printed, fail

LINES = (
    "loss: 10.5000",
    "autograd: -14.0000",
    "by hand: -14.0000",
    "w after one step: 1.2000",
    "grad after zero_: 0.0000",
)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _close(a, b, atol=1e-5, rtol=1e-4):
    return _number(a) and _number(b) and abs(a - b) <= atol + rtol * abs(b)


def _scalar(value):
    """The number in an observed one-element tensor, else ``None``."""
    if isinstance(value, Tensor) and value.numel == 1:
        return float(value.values[0])
    return None


def _show(value):
    return f"{value:.4f}" if _number(value) else "?"


def _draw(obs):
    """The grader's draw in a sentence, (en, ko): the starting w and the learning rate."""
    ref = obs.reference("steps")
    values = f"w = {ref['w']:.4f}, lr = {ref['lr']:g}"
    return f"fresh data with {values}", f"새 데이터({values})"


def _calls(obs):
    """Pairs (learner's call, reference's call) once every call returned three numbers."""
    mine = obs["steps"]["calls"]
    ref = obs.reference("steps")["calls"]
    finished = len(mine) == len(ref) and all(
        not c["raised"]
        and isinstance(c["returned"], list)
        and len(c["returned"]) == 3
        and all(_number(v) for v in c["returned"])
        for c in mine
    )
    if not finished:
        fail(
            en="`gradient_step` did not return three numbers on fresh data (see `runs` above).",
            ko="`gradient_step`이 새 데이터에서 숫자 세 개를 돌려주지 못했습니다 (위의 `runs` 참고).",
        )
    pairs = list(zip(mine, ref, strict=True))
    return pairs


def _first_step_off(pairs):
    """Whether the first call left ``w`` elsewhere than the reference's (so the second call starts off)."""
    (mine, ref), _ = pairs
    return not _close(_scalar(mine["w"].get("value")), _scalar(ref["w"]["value"]))


def _second_call_starts_off(what_en, what_ko):
    fail(
        en=f"On a second call with the same `w`, {what_en} differs from the reference's because the first "
        "call left `w` in the wrong place (see `gradient_step`).",
        ko=f"같은 `w`로 두 번째 호출했을 때 {what_ko} 다른 것은 첫 호출이 `w`를 엉뚱한 곳에 두었기 "
        "때문입니다 (`gradient_step` 참고).",
    )


def _when(obs, i):
    """How a sentence opens for call ``i``: (en, ko)."""
    if i == 0:
        en, ko = _draw(obs)
        return f"For {en}", f"{ko}로 불렀을 때"
    return "On a second call with the same `w`", "같은 `w`로 두 번째 호출했을 때"


@check("w_tracked", aspect="state")
def w_tracked(obs):
    w = obs["program"]
    if w.get("kind") != "tensor":
        fail(
            en="There is no tensor `w` at the top level. Keep `w = torch.tensor(0.5, requires_grad=True)`.",
            ko="맨 바깥에 `w` tensor가 없습니다. `w = torch.tensor(0.5, requires_grad=True)`를 두세요.",
        )
    if not w["requires_grad"]:
        fail(
            en="autograd does not track your `w`. Create it as `w = torch.tensor(0.5, requires_grad=True)`.",
            ko="autograd가 `w`를 추적하지 않습니다. `w = torch.tensor(0.5, requires_grad=True)`로 만드세요.",
        )
    if not w["is_leaf"]:
        fail(
            en="Your `w` is no longer the leaf tensor you created: a new tensor computed from it was "
            "assigned to `w`. Update `w` in place inside `with torch.no_grad():` instead.",
            ko="`w`가 처음 만든 leaf tensor가 아닙니다. `w`로 계산한 새 tensor가 `w`에 대입되었습니다. "
            "`with torch.no_grad():` 안에서 `w`를 in-place로 업데이트하세요.",
        )


@check("runs", aspect="any")
def runs(obs):
    for i, call in enumerate(obs["steps"]["calls"]):
        when_en, when_ko = _when(obs, i)
        if call["raised"]:
            error = str(call["raised"]).rstrip(".")
            fail(
                en=f"{when_en}, `gradient_step(w, x, y, lr)` raised {error}.",
                ko=f"{when_ko} `gradient_step(w, x, y, lr)`에서 {error} 오류가 났습니다.",
            )
        returned = call["returned"]
        if not (isinstance(returned, list) and len(returned) == 3 and all(_number(v) for v in returned)):
            if isinstance(returned, list):
                shown = f"{len(returned)} value(s)"
            else:
                shown = f"a {returned.get('kind', '?') if isinstance(returned, dict) else '?'}"
            fail(
                en=f"`gradient_step` returned {shown}; return three numbers, the loss, autograd's gradient "
                "and yours: `return loss.item(), grad, by_hand.item()`.",
                ko=f"`gradient_step`이 {shown}을(를) 돌려줬습니다. loss, autograd의 gradient, 손으로 구한 "
                "gradient, 이렇게 숫자 세 개를 돌려주세요: `return loss.item(), grad, by_hand.item()`.",
            )


@check("loss", aspect="state")
def loss(obs):
    pairs = _calls(obs)
    for i, (mine, ref) in enumerate(pairs):
        got, want = mine["returned"][0], ref["returned"][0]
        if not _close(got, want):
            if i == 1 and _first_step_off(pairs):
                _second_call_starts_off("the loss", "loss가")
            when_en, when_ko = _when(obs, i)
            fail(
                en=f"{when_en}, `gradient_step` returned the loss {_show(got)}; "
                f"`mean((w*x - y)**2)` is {_show(want)}.",
                ko=f"{when_ko} `gradient_step`이 돌려준 loss가 {_show(got)}입니다. "
                f"`mean((w*x - y)**2)`는 {_show(want)}입니다.",
            )


@check("autograd_gradient", aspect="state")
def autograd_gradient(obs):
    pairs = _calls(obs)
    for i, (mine, ref) in enumerate(pairs):
        when_en, when_ko = _when(obs, i)
        if mine["reached_w"] == 0:
            fail(
                en=f"{when_en}, autograd computed no gradient for `w`: `loss.backward()` was not called. "
                "Call it after computing the loss; the gradient is then in `w.grad`.",
                ko=f"{when_ko} autograd가 `w`의 gradient를 구하지 않았습니다. `loss.backward()`가 호출되지 "
                "않았습니다. loss를 계산한 뒤 호출하면 gradient가 `w.grad`에 들어갑니다.",
            )
        if mine["reached_w"] > 1:
            fail(
                en=f"{when_en}, one call of `gradient_step` ran backward through `w` {mine['reached_w']} "
                "times. Call `loss.backward()` once per step.",
                ko=f"{when_ko} `gradient_step` 한 번에 backward가 `w`까지 {mine['reached_w']}번 "
                "실행되었습니다. step마다 `loss.backward()`는 한 번만 호출하세요.",
            )
        got, want = mine["returned"][1], ref["returned"][1]
        if not _close(got, want):
            if i == 0:
                fail(
                    en=f"{when_en}, `gradient_step` returned the autograd gradient {_show(got)}; `w.grad` "
                    f"right after `loss.backward()` holds {_show(want)}. Return that number.",
                    ko=f"{when_ko} `gradient_step`이 돌려준 autograd gradient가 {_show(got)}입니다. "
                    f"`loss.backward()` 직후 `w.grad` 값은 {_show(want)}입니다. 그 숫자를 돌려주세요.",
                )
            if _first_step_off(pairs):
                _second_call_starts_off("autograd's gradient", "autograd의 gradient가")
            fail(
                en=f"{when_en}, `gradient_step` returned the autograd gradient {_show(got)}; it should be "
                f"{_show(want)}. `backward()` adds to `w.grad`, so whatever the first call left there is "
                "added to the new gradient.",
                ko=f"{when_ko} `gradient_step`이 돌려준 autograd gradient가 {_show(got)}입니다. "
                f"{_show(want)}이어야 합니다. `backward()`는 `w.grad`에 더하기 때문에 첫 호출이 남긴 값이 "
                "새 gradient에 더해집니다.",
            )


@check("by_hand", aspect="state")
def by_hand(obs):
    pairs = _calls(obs)
    for i, (mine, ref) in enumerate(pairs):
        got, want = mine["returned"][2], ref["returned"][2]
        if not _close(got, want):
            if i == 1 and _first_step_off(pairs):
                _second_call_starts_off("the by-hand gradient", "손으로 구한 gradient가")
            when_en, when_ko = _when(obs, i)
            fail(
                en=f"{when_en}, your by-hand gradient is {_show(got)}; it should be {_show(want)}, the same "
                "as autograd's. By the chain rule, d/dw mean((w·x - y)²) = mean(2·(w·x - y)·x).",
                ko=f"{when_ko} 손으로 구한 gradient가 {_show(got)}입니다. autograd와 같은 {_show(want)}이어야 "
                "합니다. chain rule로 풀면 d/dw mean((w·x - y)²) = mean(2·(w·x - y)·x)입니다.",
            )


@check("gradient_step", aspect="state")
def gradient_step(obs):
    before = obs.reference("steps")["w"]
    for i, (mine, ref) in enumerate(_calls(obs)):
        when_en, when_ko = _when(obs, i)
        w = mine["w"]
        if w.get("kind") != "tensor" or not w["requires_grad"]:
            fail(
                en=f"{when_en}, the caller's `w` no longer requires grad after `gradient_step`. Update it in "
                "place inside `with torch.no_grad():` with `w -= lr * w.grad`.",
                ko=f"{when_ko} `gradient_step` 뒤 호출한 쪽의 `w`가 더 이상 requires_grad가 아닙니다. "
                "`with torch.no_grad():` 안에서 `w -= lr * w.grad`로 in-place 업데이트하세요.",
            )
        got, want = _scalar(w["value"]), _scalar(ref["w"]["value"])
        if not _close(got, want):
            if _close(got, before, atol=1e-7, rtol=0):
                fail(
                    en=f"{when_en}, `gradient_step` did not move the caller's `w`: it is still {_show(got)}. "
                    "Take the step in place, inside `with torch.no_grad():`, with `w -= lr * w.grad`.",
                    ko=f"{when_ko} `gradient_step`이 호출한 쪽의 `w`를 움직이지 않았습니다. 아직 "
                    f"{_show(got)}입니다. `with torch.no_grad():` 안에서 `w -= lr * w.grad`로 in-place로 "
                    "한 step 진행하세요.",
                )
            fail(
                en=f"{when_en}, `w` is {_show(got)} after the step; it should be {_show(want)} "
                "(w - lr · grad). Subtract the learning rate times the gradient: `w -= lr * w.grad`.",
                ko=f"{when_ko} step 뒤 `w`가 {_show(got)}입니다. {_show(want)}(w - lr · grad)이어야 합니다. "
                "learning rate와 gradient의 곱을 빼세요: `w -= lr * w.grad`.",
            )
        before = got


@check("grad_cleared", aspect="state")
def grad_cleared(obs):
    for i, (mine, _) in enumerate(_calls(obs)):
        when_en, when_ko = _when(obs, i)
        grad = mine["w"].get("grad")
        if grad is None:
            fail(
                en=f"{when_en}, `w.grad` is None after `gradient_step`. Setting it to None clears it too, but "
                "the program prints the cleared gradient: clear it in place with `w.grad.zero_()`.",
                ko=f"{when_ko} `gradient_step` 뒤 `w.grad`가 None입니다. None으로 두어도 비워지긴 하지만 "
                "프로그램이 비운 gradient를 출력하니 `w.grad.zero_()`로 in-place로 비우세요.",
            )
        value = _scalar(grad)
        if value != 0.0:
            fail(
                en=f"{when_en}, `w.grad` still holds {_show(value)} after `gradient_step`. Gradients add up "
                "across `backward()` calls, so clear it for the next step: `w.grad.zero_()`.",
                ko=f"{when_ko} `gradient_step` 뒤에도 `w.grad`가 0이 아니라 {_show(value)}입니다. gradient는 "
                "`backward()`를 부를 때마다 누적되니 다음 step을 위해 `w.grad.zero_()`로 비우세요.",
            )


@check("printed", aspect="output", uses_output=True)
def printed(obs):
    # Printing alone passes nothing: the lines count once gradient_step works on fresh data.
    try:
        for judged in (runs, loss, autograd_gradient, by_hand, gradient_step, grad_cleared):
            judged(obs)
    except CheckFailed:
        fail(
            en="The printed lines count once `gradient_step` works on fresh data: fix the checks above first.",
            ko="`gradient_step`이 새 데이터에서 제대로 동작해야 출력도 인정됩니다. 위의 검사부터 고치세요.",
        )
    w, want = obs["program"], obs.reference("program")
    if w.get("kind") != "tensor" or not (
        _close(_scalar(w["value"]), _scalar(want["value"])) and _scalar(w.get("grad")) == 0.0
    ):
        fail(
            en="At the end of your program, `w` should be 1.2000 with `w.grad` cleared: call "
            "`gradient_step(w, x, y, lr=0.05)` once on the prompt's data.",
            ko="프로그램이 끝날 때 `w`는 1.2000이고 `w.grad`는 비어 있어야 합니다. 문제의 데이터로 "
            "`gradient_step(w, x, y, lr=0.05)`를 한 번 호출하세요.",
        )
    for line in LINES:
        expect_printed(obs, line)
