"""Checks for the autograd exercise: w tracked, loss.backward(), one in-place SGD step to 1.2, grad zeroed."""

import torch

from questlab.grading.api import check, expect_printed, expect_printed_pattern, fail


def tracked_w(sub):
    """The learner's ``w``: a tensor, or a failure that says what to do."""
    w = sub.ns.get("w")
    if not isinstance(w, torch.Tensor):
        fail(en="There is no tensor `w`. Keep `w = torch.tensor(0.5, requires_grad=True)` at the top level.",
             ko="`w` tensor가 없습니다. 맨 바깥에 `w = torch.tensor(0.5, requires_grad=True)`를 두세요.")
    return w


def replaced(sub, w):
    """``w`` was rebound to a new tensor (``w = w - ...``) after being created with requires_grad."""
    return "requires_grad" in sub.source and (not w.requires_grad or not w.is_leaf)


REPLACED = {
    "en": "`w` was replaced by a new tensor (`w = w - ...`), so the gradient in `w.grad` was lost with the "
          "old one. Update in place inside `with torch.no_grad():` with `w -= 0.05 * w.grad`.",
    "ko": "`w`가 새 tensor로 바뀌어서(`w = w - ...`) `w.grad`의 gradient가 이전 tensor와 함께 사라졌습니다. "
          "`with torch.no_grad():` 안에서 `w -= 0.05 * w.grad`로 in-place 업데이트하세요.",
}


@check("w_requires_grad", aspect="any")
def w_requires_grad(sub):
    w = tracked_w(sub)
    if not w.requires_grad:
        if "requires_grad" in sub.source and w.grad is None and w.is_leaf:
            fail(en="`w` no longer requires grad at the end of your program. Assigning `w = w - ...` inside "
                    "`torch.no_grad()` makes a new tensor without requires_grad; update in place instead: "
                    "`w -= 0.05 * w.grad`.",
                 ko="프로그램이 끝났을 때 `w`의 requires_grad가 꺼져 있습니다. `torch.no_grad()` 안에서 "
                    "`w = w - ...`로 대입하면 requires_grad가 없는 새 tensor가 생깁니다. "
                    "`w -= 0.05 * w.grad`처럼 in-place로 업데이트하세요.")
        fail(en="autograd does not track `w`. Create it as `w = torch.tensor(0.5, requires_grad=True)`.",
             ko="autograd가 `w`를 추적하지 않습니다. `w = torch.tensor(0.5, requires_grad=True)`로 만드세요.")
    if not w.is_leaf:
        fail(en="`w` is no longer the leaf tensor you created: `w = w - ...` outside `torch.no_grad()` "
                "makes a new tensor computed from the old one, and its `.grad` stays empty. Update in place "
                "inside `with torch.no_grad():` with `w -= 0.05 * w.grad`.",
             ko="`w`가 처음 만든 leaf tensor가 아닙니다. `torch.no_grad()` 밖에서 `w = w - ...`로 대입하면 "
                "이전 `w`로 계산한 새 tensor가 생기고 그 `.grad`는 비어 있습니다. `with torch.no_grad():` "
                "안에서 `w -= 0.05 * w.grad`로 in-place 업데이트하세요.")


@check("loss", aspect="output", uses_output=True)
def loss(sub):
    expect_printed_pattern(sub, r"loss:\s*(-?[0-9.]+)", expected="10.5000", example="loss: 10.5000")


@check("autograd_gradient", aspect="output", uses_output=True)
def autograd_gradient(sub):
    w = tracked_w(sub)
    if w.grad is None and not replaced(sub, w):
        fail(en="`w.grad` is empty: autograd never computed a gradient for `w`. Call `loss.backward()` "
                "after computing the loss.",
             ko="`w.grad`가 비어 있습니다. autograd가 `w`의 gradient를 구한 적이 없습니다. loss를 계산한 뒤 "
                "`loss.backward()`를 호출하세요.")
    expect_printed_pattern(sub, r"autograd:\s*(-?[0-9.]+)", expected="-14.0000", example="autograd: -14.0000")


@check("by_hand", aspect="output", uses_output=True)
def by_hand(sub):
    expect_printed_pattern(sub, r"by hand:\s*(-?[0-9.]+)", expected="-14.0000", example="by hand: -14.0000")


@check("gradient_step", aspect="state")
def gradient_step(sub):
    w = tracked_w(sub)
    value = float(w.detach())
    if abs(value - 1.2) > 1e-4:
        if abs(value - 0.5) < 1e-6:
            fail(en="`w` is still 0.5: take one step with `w -= 0.05 * w.grad` inside `with "
                    "torch.no_grad():`.",
                 ko="`w`가 아직 0.5입니다. `with torch.no_grad():` 안에서 `w -= 0.05 * w.grad`로 한 step "
                    "진행하세요.")
        fail(en=f"After one step `w` is {value:.4f}; it should be 1.2000 (0.5 - 0.05 × -14). Subtract the "
                "learning rate times the gradient: `w -= 0.05 * w.grad`.",
             ko=f"한 step 뒤 `w`가 {value:.4f}입니다. 1.2000(0.5 - 0.05 × -14)이어야 합니다. learning rate와 "
                "gradient의 곱을 빼세요: `w -= 0.05 * w.grad`.")
    expect_printed(sub, "w after one step: 1.2000")


@check("grad_cleared", aspect="state")
def grad_cleared(sub):
    w = tracked_w(sub)
    if w.grad is None and replaced(sub, w):
        fail(**REPLACED)
    if w.grad is None:
        fail(en="`w.grad` is None at the end, so there is nothing to print as `grad after zero_`. Clear the "
                "gradient in place with `w.grad.zero_()`.",
             ko="마지막에 `w.grad`가 None이라서 `grad after zero_`로 출력할 값이 없습니다. "
                "`w.grad.zero_()`로 gradient를 in-place로 비우세요.")
    if float(w.grad.abs().max()) != 0.0:
        fail(en=f"`w.grad` still holds {float(w.grad):.4f}. Gradients add up across `backward()` calls, so "
                "clear it for the next step: `w.grad.zero_()`.",
             ko=f"`w.grad`에 아직 {float(w.grad):.4f}가 남아 있습니다. gradient는 `backward()`를 부를 때마다 "
                "누적되니 다음 step을 위해 `w.grad.zero_()`로 비우세요.")
    expect_printed(sub, "grad after zero_: 0.0000")
