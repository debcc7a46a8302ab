"""Checks for train_one_epoch: train mode, zero_grad/forward/loss/backward/step per batch, mean loss.

Judged on the server from what probe.py observed: the learner's train_one_epoch ran on a model,
data and learning rate drawn from this submission's seed, with batches of 20, 20 and 10 samples;
the calls it made, the parameters it left and the average it returned are compared with the
reference solution's on the same draw.
"""

import re

from questlab.grading.judge import CheckFailed, check, expect_close, expect_printed_pattern, fail

STEPS = (
    "`optimizer.zero_grad()` → `model(xb)` → `loss_fn(pred, yb)` → `loss.backward()` → `optimizer.step()`"
)


def _close(a, b, atol=1e-5, rtol=1e-4):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)) and abs(
        a - b
    ) <= atol + rtol * abs(b)


@check("train_mode", aspect="state")
def train_mode(obs):
    if not obs["epoch"]["training"]:
        fail(
            en="The grader put the model in eval mode and called `train_one_epoch`; afterwards the model was "
            "still in eval mode. Start the function with `model.train()`: the outer code calls `model.eval()` "
            "to measure accuracy.",
            ko="채점기가 model을 eval mode로 두고 `train_one_epoch`를 불렀는데, 끝난 뒤에도 model이 eval "
            "mode였습니다. 함수 첫 줄에서 `model.train()`을 호출하세요. 바깥 코드가 정확도를 잴 때 "
            "`model.eval()`을 부르기 때문입니다.",
        )


@check("training_steps", aspect="any")
def training_steps(obs):
    epoch = obs["epoch"]
    events, batches = epoch["events"], obs.reference("epoch")["batches"]
    if not any(e.startswith("backward") for e in events):
        fail(
            en=f"`loss.backward()` is never called, so no gradients are computed. In each batch the order is "
            f"{STEPS}.",
            ko=f"`loss.backward()`를 호출하지 않아 gradient가 계산되지 않습니다. batch마다 순서는 {STEPS}입니다.",
        )
    if "step" not in events:
        fail(
            en="`optimizer.step()` is never called, so the parameters never change and the loss stays where it "
            f"is. In each batch the order is {STEPS}.",
            ko="`optimizer.step()`을 호출하지 않아 parameter가 바뀌지 않고 loss도 그대로입니다. batch마다 "
            f"순서는 {STEPS}입니다.",
        )
    if any(e != "backward" and e.startswith("backward") for e in events):
        fail(
            en="The gradients of the previous batch were still in `.grad` when `loss.backward()` ran, so they "
            "add up from batch to batch. Call `optimizer.zero_grad()` at the start of each batch.",
            ko="`loss.backward()`가 실행될 때 이전 batch의 gradient가 `.grad`에 남아 있어서 batch마다 "
            "누적됩니다. 각 batch를 시작할 때 `optimizer.zero_grad()`를 호출하세요.",
        )
    want = ["forward", "loss", "backward", "step"] * batches
    if events != want:
        shown = ", ".join(events[:8]) + (", ..." if len(events) > 8 else "")
        fail(
            en=f"For {batches} batches each batch should run forward, loss, backward, step once, in that order; "
            f"yours ran: {shown}. The order is {STEPS}.",
            ko=f"batch {batches}개에서 각 batch가 forward, loss, backward, step을 이 순서로 한 번씩 실행해야 "
            f"하는데 실제로는 {shown} 순서였습니다. 순서는 {STEPS}입니다.",
        )


@check("parameters_after_epoch", aspect="state")
def parameters_after_epoch(obs):
    epoch, ref = obs["epoch"], obs.reference("epoch")
    try:
        expect_close(epoch["parameters"], ref["parameters"], what="the parameters after one epoch", atol=1e-5)
    except CheckFailed:
        fail(
            en=f"After one epoch on fresh data (lr = {ref['lr']:g}, batches of 20, 20 and 10), the model's "
            "parameters differ from those of a correct loop. Each batch must move them exactly once, with "
            f"fresh gradients: {STEPS}.",
            ko=f"새 데이터로 한 epoch(lr = {ref['lr']:g}, batch 20, 20, 10개)을 학습시킨 뒤 model의 parameter가 "
            "올바른 loop의 결과와 다릅니다. batch마다 새로 구한 gradient로 정확히 한 번씩 움직여야 합니다: "
            f"{STEPS}.",
        )


@check("average_loss", aspect="output")
def average_loss(obs):
    got, want = obs["frozen"], obs.reference("frozen")
    if got.get("kind") == "Tensor":
        graph = got.get("requires_grad")
        fail(
            en="`train_one_epoch` returns a tensor"
            + (" that still carries the graph of every batch (`requires_grad=True`)" if graph else "")
            + ". Return a Python float: add up `loss.item() * len(xb)`.",
            ko="`train_one_epoch`가 "
            + ("모든 batch의 graph가 매달린(`requires_grad=True`) " if graph else "")
            + "tensor를 돌려줍니다. `loss.item() * len(xb)`를 더해 Python float를 돌려주세요.",
        )
    value = got.get("value")
    shown = f"{value:.4f}" if isinstance(value, float) else f"a {got.get('kind', '?')}"
    if got.get("kind") not in ("float", "int") or not _close(value, want["value"], atol=1e-6, rtol=1e-5):
        fail(
            en=f"With batches of 20, 20 and 10 samples and a model that does not change (lr = 0), "
            f"`train_one_epoch` returned {shown}; the sample-weighted average loss is {want['value']:.4f}. "
            "Add `loss.item() * len(xb)` per batch and divide by the number of samples.",
            ko=f"batch가 20, 20, 10개이고 model이 바뀌지 않을 때(lr = 0) `train_one_epoch`가 {shown}을(를) "
            f"돌려줬습니다. 샘플 수로 가중한 평균 loss는 {want['value']:.4f}입니다. batch마다 "
            "`loss.item() * len(xb)`를 더해 전체 샘플 수로 나누세요.",
        )


@check("final_loss", aspect="output", uses_output=True)
def final_loss(obs):
    # Printing alone passes nothing: the printed loss counts once train_one_epoch works on fresh data.
    try:
        for judged in (train_mode, training_steps, parameters_after_epoch, average_loss):
            judged(obs)
    except CheckFailed:
        fail(
            en="The printed losses count once `train_one_epoch` works on fresh data: fix the checks above first.",
            ko="`train_one_epoch`가 새 데이터에서 제대로 동작해야 출력한 loss도 인정됩니다. 위의 검사부터 "
            "고치세요.",
        )
    line = expect_printed_pattern(obs, r"epoch 10:\s*([0-9.]+)", example="epoch 10: 0.1486")
    value = float(line) if re.fullmatch(r"[0-9]*\.?[0-9]+", line) else float("nan")
    if not value < 0.2:
        fail(
            en=f"The loss of the 10th epoch is {line}; it should be below 0.2 (0.1486 with a correct loop). "
            "Leave the outer code as it is.",
            ko=f"10번째 epoch의 loss가 {line}입니다. 0.2보다 작아야 합니다 (올바른 loop라면 0.1486). "
            "바깥 코드는 그대로 두세요.",
        )
    expect_printed_pattern(obs, r"below 0\.2:\s*(\w+)", expected="True", example="below 0.2: True")
