"""Checks for accumulated_step: one step on a batch in micro-batches, equal to one big-batch step.

Judged on the server from what probe.py observed: the learner's accumulated_step ran on a model,
a batch of 24 samples, a number of micro-batches and a learning rate drawn from this submission's
seed. The calls it made, where it moved the parameters (with clipping out of the way, with
clipping active, and over two calls in a row) and the norm it returned are compared with the
reference solution's on the same draw.
"""

import math

from questlab.grading.judge import CheckFailed, check, expect_printed_pattern, fail
from questlab.grading.judge.wire import Tensor

RECIPE = (
    "`optimizer.zero_grad()` once → per micro-batch `(loss_fn(model(xb), yb) / micro_batches).backward()` → "
    "`clip_grad_norm_(model.parameters(), max_norm)` once → `optimizer.step()` once"
)
ATOL = 1e-5


def _raised(data):
    if data.get("raised"):
        error = str(data["raised"]).rstrip(".")
        fail(
            en=f"Calling `accumulated_step(...)` raised {error}.",
            ko=f"`accumulated_step(...)`를 호출하자 {error} 오류가 났습니다.",
        )


def _norm(t):
    return math.sqrt(sum(float(v) ** 2 for v in t.values))


def _close(got, want):
    return isinstance(got, Tensor) and got.close(want, ATOL, 1e-4)


def _ratio(got, want):
    """How many times farther the learner's step went than the reference's (None when not comparable)."""
    if not isinstance(got, Tensor) or got.shape != want.shape or not _norm(want):
        return None
    return _norm(got) / _norm(want)


@check("micro_batches", aspect="any")
def micro_batches(obs):
    data = obs["trace"]
    _raised(data)
    k, rows, events = data["micro_batches"], data["rows"], data["events"]
    forwards = [e for e in events if e.startswith("forward")]
    sizes = [int(e.split()[1]) for e in forwards]
    if not forwards:
        fail(
            en="`accumulated_step` never calls the model. Run each micro-batch through it: "
            "`for xb, yb in zip(x.chunk(micro_batches), y.chunk(micro_batches)):`.",
            ko="`accumulated_step`가 model을 한 번도 호출하지 않습니다. micro-batch마다 model에 넣으세요: "
            "`for xb, yb in zip(x.chunk(micro_batches), y.chunk(micro_batches)):`.",
        )
    if sizes != [rows // k] * k:
        shown = ", ".join(map(str, sizes[:12])) + (", ..." if len(sizes) > 12 else "")
        fail(
            en=f"With a batch of {rows} samples and `micro_batches={k}`, the model should see {k} pieces of "
            f"{rows // k} samples; it saw pieces of {shown}. Split both tensors the same way: "
            "`zip(x.chunk(micro_batches), y.chunk(micro_batches))`.",
            ko=f"batch {rows}개, `micro_batches={k}`이면 model은 {rows // k}개짜리 조각 {k}개를 받아야 하는데 "
            f"실제로 받은 조각의 크기는 {shown}입니다. 두 tensor를 같은 방법으로 나누세요: "
            "`zip(x.chunk(micro_batches), y.chunk(micro_batches))`.",
        )
    backwards = events.count("backward")
    if backwards == 0:
        fail(
            en=f"`backward()` is never called, so no gradient is gathered. Call it on each micro-batch's loss, "
            f"inside the loop. The recipe is {RECIPE}.",
            ko=f"`backward()`를 호출하지 않아 gradient가 하나도 모이지 않습니다. loop 안에서 micro-batch마다 그 "
            f"loss로 호출하세요. 순서는 {RECIPE}입니다.",
        )
    if backwards != k:
        fail(
            en=f"`backward()` reached the parameters {backwards} time(s) for {k} micro-batches; call it once "
            f"per micro-batch, on that micro-batch's loss. The recipe is {RECIPE}.",
            ko=f"micro-batch {k}개에서 `backward()`가 parameter까지 {backwards}번 도달했습니다. micro-batch마다 "
            f"그 loss로 한 번씩 호출하세요. 순서는 {RECIPE}입니다.",
        )
    steps = events.count("step")
    if steps == 0:
        fail(
            en=f"`optimizer.step()` is never called, so the parameters never move. The recipe is {RECIPE}.",
            ko=f"`optimizer.step()`을 호출하지 않아 parameter가 움직이지 않습니다. 순서는 {RECIPE}입니다.",
        )
    if steps != 1 or events[-1] != "step":
        fail(
            en=f"`optimizer.step()` ran {steps} time(s) in one call of `accumulated_step`"
            + (", inside the micro-batch loop" if steps > 1 else ", before the last `backward()`")
            + ". Gather the gradients of all micro-batches first, then take one step after the loop.",
            ko=f"`accumulated_step` 한 번에 `optimizer.step()`이 {steps}번 실행됐습니다"
            + (" (micro-batch loop 안)" if steps > 1 else " (마지막 `backward()`보다 먼저)")
            + ". 모든 micro-batch의 gradient를 먼저 모으고, loop가 끝난 뒤 step을 한 번만 하세요.",
        )


@check("same_as_one_big_batch", aspect="state")
def same_as_one_big_batch(obs):
    data, ref = obs["unclipped"], obs.reference("unclipped")
    _raised(data)
    if _close(data["moved"], ref["moved"]):
        return
    k, ratio = ref["micro_batches"], _ratio(data["moved"], ref["moved"])
    if ratio is not None and abs(ratio - k) < 0.01 * k:
        fail(
            en=f"With clipping out of the way, your step moved the parameters {k} times as far as one step on "
            f"the whole batch (`micro_batches={k}`): each micro-batch's loss is the mean over its own samples, "
            f"and {k} such gradients add up to {k} times the mean. Divide each micro-batch's loss by "
            "`micro_batches` before `backward()`.",
            ko=f"clipping이 걸리지 않을 때 parameter가 batch 전체로 한 step 한 것보다 {k}배 멀리 움직였습니다"
            f"(`micro_batches={k}`). micro-batch의 loss는 그 조각 안의 평균이라 gradient {k}개를 더하면 평균의 "
            f"{k}배가 됩니다. `backward()` 전에 각 micro-batch의 loss를 `micro_batches`로 나누세요.",
        )
    fail(
        en=f"With clipping out of the way (`max_norm=1e6`, lr = {ref['lr']:g}, `micro_batches={k}`), one call "
        "left the parameters somewhere else than one step on the whole batch would. "
        f"The recipe is {RECIPE}.",
        ko=f"clipping이 걸리지 않을 때(`max_norm=1e6`, lr = {ref['lr']:g}, `micro_batches={k}`) 한 번 호출한 "
        f"뒤의 parameter가 batch 전체로 한 step 한 결과와 다릅니다. 순서는 {RECIPE}입니다.",
    )


@check("clipped_once", aspect="state")
def clipped_once(obs):
    data, ref = obs["clipped"], obs.reference("clipped")
    _raised(data)
    if not _close(data["moved"], ref["moved"]):
        fail(
            en=f"With `max_norm={ref['max_norm']:g}`, well below this gradient's norm, the parameters moved "
            "differently from one big-batch step with its gradient clipped. Clip once, after the micro-batch "
            "loop and before `optimizer.step()`: the whole gathered gradient, not a partial sum inside the "
            "loop, and not after the step.",
            ko=f"gradient norm보다 한참 작은 `max_norm={ref['max_norm']:g}`에서 parameter가 gradient를 clip한 "
            "큰 batch 한 step과 다르게 움직였습니다. micro-batch loop가 끝난 뒤, `optimizer.step()` 앞에서 한 "
            "번만 자르세요. loop 안의 부분합이 아니라 다 모은 gradient를 잘라야 하고, step 뒤에 자르면 "
            "소용이 없습니다.",
        )


@check("returned_norm", aspect="output")
def returned_norm(obs):
    data, ref = obs["clipped"], obs.reference("clipped")
    _raised(data)
    got, want = data["returned"] or {}, ref["returned"]["value"]
    if got.get("kind") == "Tensor":
        fail(
            en="`accumulated_step` returns a tensor; return a Python float: `norm.item()`, where `norm` is what "
            "`clip_grad_norm_` returned.",
            ko="`accumulated_step`가 tensor를 돌려줍니다. Python float를 돌려주세요: `clip_grad_norm_`이 돌려준 "
            "`norm`에 `.item()`을 붙이면 됩니다.",
        )
    value = got.get("value")
    if got.get("kind") not in ("float", "int"):
        fail(
            en=f"`accumulated_step` returns {got.get('kind')}; return the total norm that `clip_grad_norm_` "
            "reports, as a float: `return norm.item()`.",
            ko=f"`accumulated_step`가 {got.get('kind')}을(를) 돌려줍니다. `clip_grad_norm_`이 알려 주는 total "
            "norm을 float로 돌려주세요: `return norm.item()`.",
        )
    if abs(value - want) > 1e-5 + 1e-4 * abs(want):
        k = ref["micro_batches"]
        times = value / want if want else 0.0
        hint_en = (
            f" That is {k} times the norm of the big batch's gradient: divide each micro-batch's loss by "
            "`micro_batches`."
            if abs(times - k) < 0.01 * k
            else " Take the norm once, from `clip_grad_norm_` after the micro-batch loop, where `.grad` holds "
            "the whole gathered gradient and nothing is clipped yet."
        )
        hint_ko = (
            f" 큰 batch gradient norm의 {k}배입니다. 각 micro-batch의 loss를 `micro_batches`로 나누세요."
            if abs(times - k) < 0.01 * k
            else " norm은 micro-batch loop가 끝난 뒤, `.grad`에 다 모인 gradient가 아직 잘리지 않은 상태에서 "
            "`clip_grad_norm_`이 돌려주는 값 하나입니다."
        )
        fail(
            en=f"`accumulated_step` returned {value:.4f}; the norm of the gathered gradient before clipping is "
            f"{want:.4f}." + hint_en,
            ko=f"`accumulated_step`가 {value:.4f}을(를) 돌려줬습니다. 다 모은 gradient의 clip 전 norm은 "
            f"{want:.4f}입니다." + hint_ko,
        )


@check("two_calls_in_a_row", aspect="state")
def two_calls_in_a_row(obs):
    data, ref = obs["twice"], obs.reference("twice")
    _raised(data)
    first_right = _close(data["after_first"], ref["after_first"])
    if first_right and not _close(data["after_second"], ref["after_second"]):
        fail(
            en="The first call left the parameters where one big-batch step would, but the second call, on a "
            "new batch, did not: the first call's gradients were still in `.grad` and were added to. Call "
            "`optimizer.zero_grad()` at the start of `accumulated_step`, once, before the micro-batch loop.",
            ko="첫 번째 호출 뒤의 parameter는 큰 batch 한 step과 같았는데, 새 batch로 부른 두 번째 호출은 "
            "달랐습니다. 첫 호출의 gradient가 `.grad`에 남아 있다가 더해졌기 때문입니다. `accumulated_step`을 "
            "시작할 때, micro-batch loop 앞에서 `optimizer.zero_grad()`를 한 번 호출하세요.",
        )
    if not first_right or not _close(data["after_second"], ref["after_second"]):
        fail(
            en=f"Over two calls in a row the parameters end somewhere else than two big-batch steps would put "
            f"them. The recipe is {RECIPE}.",
            ko=f"두 번 연속 호출한 뒤의 parameter가 큰 batch로 두 step 한 결과와 다릅니다. 순서는 {RECIPE}입니다.",
        )


@check("printed", aspect="output", uses_output=True)
def printed(obs):
    # Printing alone passes nothing: the lines count once accumulated_step works on fresh data.
    try:
        for judged in (micro_batches, same_as_one_big_batch, clipped_once, returned_norm, two_calls_in_a_row):
            judged(obs)
    except CheckFailed:
        fail(
            en="The printed lines count once `accumulated_step` works on fresh data: fix the checks above first.",
            ko="`accumulated_step`가 새 데이터에서 제대로 동작해야 출력도 인정됩니다. 위의 검사부터 고치세요.",
        )
    for step in (1, 2, 3):
        expect_printed_pattern(
            obs,
            rf"step {step}: norm [0-9.]+ \(one big batch: [0-9.]+\), same parameters: (\w+)",
            expected="True",
            example=f"step {step}: norm 1.4496 (one big batch: 1.4496), same parameters: True",
        )
