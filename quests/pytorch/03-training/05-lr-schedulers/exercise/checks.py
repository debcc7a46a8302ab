"""Checks for make_scheduler (linear warm-up, then cosine decay) and train_one_epoch (stepping it per batch).

Judged on the server from what probe.py observed: the learning rates of two param groups at every
step of a schedule made with a seeded warm-up length, total length and learning rate, and a
two-epoch run of the learner's train_one_epoch with a scheduler of the probe's own (the learning
rate each optimizer step used, how often the scheduler was stepped, PyTorch's warnings, the
parameters at the end); each is compared with the reference solution's on the same draw.
"""

from questlab.grading.judge import CheckFailed, check, expect_close, fail

ORDER = "`optimizer.step()`, then `scheduler.step()`"


def _close(a, b):
    return abs(a - b) <= 1e-9 + 1e-6 * abs(b)


def _g(value):
    return f"{value:.6g}"


def _first_difference(got, want):
    """``(step, group)`` of the first learning rate that differs, or ``None``."""
    for step, (row, expected) in enumerate(zip(got, want, strict=True)):
        for group, (a, b) in enumerate(zip(row, expected, strict=True)):
            if not _close(a, b):
                return step, group
    return None


def _reading(step, group, got, want, data):
    """What a first wrong learning rate at ``step`` most likely means, as ``(en, ko)``."""
    warmup, total = data["warmup"], data["total"]
    if group == 1 and _first_difference([r[:1] for r in got], [r[:1] for r in want]) is None:
        return (
            "The first param group is right but the second is not: a scheduler scales each group's own lr, so "
            "the schedule must be a factor of the base lr, not a learning rate of its own.",
            "첫 번째 param group은 맞는데 두 번째가 틀립니다. scheduler는 group마다 자기 lr에 배수를 곱하므로, "
            "schedule은 learning rate 자체가 아니라 base lr에 곱할 배수여야 합니다.",
        )
    if step == 0 and abs(got[0][group]) < 1e-3 * want[0][group]:
        return (
            "The first step's lr is (almost) 0, so that step does nothing: the warm-up starts at 10% of the "
            "base lr.",
            "첫 step의 lr이 (거의) 0이라 그 step은 아무 일도 하지 않습니다. warm-up은 base lr의 10%에서 "
            "시작합니다.",
        )
    if step < warmup:
        return (
            f"That is in the warm-up: over steps 0 to {warmup - 1} the lr rises in a straight line from 10% of "
            f"the base lr, reaching the base lr at step {warmup}.",
            f"warm-up 구간입니다. step 0부터 {warmup - 1}까지 lr이 base lr의 10%에서 직선으로 올라가 step "
            f"{warmup}에 base lr이 됩니다.",
        )
    return (
        f"That is in the cosine part: it starts at the base lr at step {warmup} and would reach 0 at step "
        f"{total}, so it lasts total_steps - warmup_steps = {total - warmup} steps.",
        f"cosine 구간입니다. step {warmup}에 base lr에서 시작해 step {total}에 0이 되도록, total_steps - "
        f"warmup_steps = {total - warmup} step 동안 내려가야 합니다.",
    )


@check("schedule", aspect="state")
def schedule(obs):
    data, ref = obs["schedule"], obs.reference("schedule")
    warmup, total, base = ref["warmup"], ref["total"], ref["base"]
    setup_en = (
        f"warmup_steps={warmup}, total_steps={total} and param groups with lr {_g(base)} and {_g(base / 10)}"
    )
    setup_ko = f"warmup_steps={warmup}, total_steps={total}, lr이 각각 {_g(base)}, {_g(base / 10)}인 param group 두 개"
    if data.get("raised"):
        error = str(data["raised"]).rstrip(".")
        fail(
            en=f"With {setup_en}, `{data['in']}` raised {error}.",
            ko=f"{setup_ko}로 `{data['in']}`를 실행하자 {error} 오류가 났습니다.",
        )
    if data.get("lrs") is None:
        fail(
            en=f"`make_scheduler` returned a {data.get('class')}, not a learning rate scheduler. Return the "
            "scheduler you built, e.g. the `SequentialLR` of a `LinearLR` and a `CosineAnnealingLR`.",
            ko=f"`make_scheduler`가 learning rate scheduler가 아닌 {data.get('class')}을(를) 돌려줬습니다. "
            "만든 scheduler를 돌려주세요. 예를 들면 `LinearLR`와 `CosineAnnealingLR`를 이은 `SequentialLR`입니다.",
        )
    got, want = data["lrs"].tolist(), ref["lrs"].tolist()
    found = _first_difference(got, want)
    if found is None:
        return
    step, group = found
    en, ko = _reading(step, group, got, want, ref)
    fail(
        en=f"With {setup_en}, step {step} (counting from 0) used lr {_g(got[step][group])} in group {group}; "
        f"it should be {_g(want[step][group])}. {en}",
        ko=f"{setup_ko}로 돌리자 step {step}(0부터 셉니다)에서 group {group}의 lr이 "
        f"{_g(got[step][group])}였습니다. {_g(want[step][group])}이어야 합니다. {ko}",
    )


@check("scheduler_in_loop", aspect="state")
def scheduler_in_loop(obs):
    data, ref = obs["training"], obs.reference("training")
    batches, epochs = ref["batches"], ref["epochs"]
    setting = f"{epochs} epochs of {batches} batches"
    setting_ko = f"batch {batches}개짜리 epoch {epochs}번"
    if data.get("raised"):
        error = str(data["raised"]).rstrip(".")
        fail(
            en=f"Calling `train_one_epoch` raised {error}.",
            ko=f"`train_one_epoch`를 호출하자 {error} 오류가 났습니다.",
        )
    if any("before `optimizer.step()`" in w for w in data["warnings"]):
        fail(
            en="PyTorch warned `Detected call of lr_scheduler.step() before optimizer.step()`: the scheduler moves "
            "on before the step that should use its lr, so the first value of the schedule is skipped and every "
            f"step uses the next step's lr. In each batch the order is {ORDER}.",
            ko="PyTorch가 `Detected call of lr_scheduler.step() before optimizer.step()` 경고를 냈습니다. 그 lr을 "
            "써야 할 step보다 scheduler가 먼저 넘어가서 schedule의 첫 값을 건너뛰고, 모든 step이 다음 step의 "
            f"lr을 씁니다. batch마다 순서는 {ORDER}입니다.",
        )
    steps = data["scheduler_steps"]
    if steps != ref["scheduler_steps"]:
        fail(
            en=f"Over {setting} `scheduler.step()` was called {steps} time(s); it should be "
            f"{ref['scheduler_steps']}. The warm-up and the cosine are counted in optimizer steps, so call "
            f"`scheduler.step()` once per batch, inside the batch loop: {ORDER}.",
            ko=f"{setting_ko} 동안 `scheduler.step()`이 {steps}번 호출되었습니다. {ref['scheduler_steps']}번이어야 "
            "합니다. warm-up과 cosine은 optimizer step 단위로 세므로, `scheduler.step()`은 batch loop 안에서 "
            f"batch마다 한 번 부르세요: {ORDER}.",
        )
    used, want = data["used"], ref["used"]
    if len(used) != len(want) or not all(_close(a, b) for a, b in zip(used, want, strict=False)):
        fail(
            en=f"Over {setting} the optimizer steps used lr {', '.join(_g(v) for v in used[:8])}; they should "
            f"use {', '.join(_g(v) for v in want[:8])}. Call `optimizer.step()` once per batch and "
            f"`scheduler.step()` right after it: {ORDER}.",
            ko=f"{setting_ko} 동안 optimizer step이 쓴 lr이 {', '.join(_g(v) for v in used[:8])}였습니다. "
            f"{', '.join(_g(v) for v in want[:8])}이어야 합니다. batch마다 `optimizer.step()`을 한 번, 그 바로 "
            f"뒤에 `scheduler.step()`을 부르세요: {ORDER}.",
        )


@check("parameters_after_training", aspect="state")
def parameters_after_training(obs):
    data, ref = obs["training"], obs.reference("training")
    if data.get("raised"):
        fail(
            en="`train_one_epoch` raised (see `scheduler_in_loop`).",
            ko="`train_one_epoch`가 오류를 냈습니다 (`scheduler_in_loop` 참고).",
        )
    try:
        expect_close(data["parameters"], ref["parameters"], what="the parameters", atol=1e-5)
    except CheckFailed:
        fail(
            en="After two epochs on the grader's data the model's parameters differ from the reference's. Each "
            "batch must clear the gradients, run forward, loss and backward, and step the optimizer once with the "
            "lr the schedule gives for that step; if `scheduler_in_loop` fails, fix it first.",
            ko="채점기의 데이터로 두 epoch을 학습시킨 뒤 model의 parameter가 reference와 다릅니다. batch마다 "
            "gradient 비우기, forward, loss, backward를 하고, 그 step에 schedule이 주는 lr로 optimizer를 한 번 "
            "step해야 합니다. `scheduler_in_loop`가 실패했다면 그것부터 고치세요.",
        )
