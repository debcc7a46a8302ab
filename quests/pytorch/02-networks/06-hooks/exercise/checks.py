"""Checks for activation_stats: forward hooks record (mean, std) per Linear/ReLU, then all come off.

Judged on the server from what probe.py observed on two models built from the submission's seed
(an nn.Sequential, and a nested model with an in-place ReLU and a Tanh); the statistics and the
outputs are compared with the reference solution's on the same models and inputs.
"""

import math

from questlab.grading.judge import Tensor, check, expect_close, fail

CASES = {
    "seq": ("an `nn.Sequential` of Linear and ReLU layers", "Linear와 ReLU로 된 `nn.Sequential`"),
    "nested": (
        "a model with layers inside `self.body` and at the top level",
        "`self.body` 안과 맨 바깥에 layer가 있는 model",
    ),
}


def _names(names):
    return ", ".join(f"`{n}`" for n in names) or "-"


def _cases(obs, name):
    """``(learner data, reference data, en description, ko description)`` of observation ``name``
    for each model, after checking that the call returned ``(output, stats)`` there."""
    returned, observed = obs["returned"], obs[name]
    for case, (en, ko) in CASES.items():
        data = returned.get(case) if isinstance(returned, dict) else None
        if (
            not isinstance(data, dict)
            or not isinstance(observed, dict)
            or not isinstance(observed.get(case), dict)
        ):
            fail(
                en="The probe could not read what `activation_stats` did.",
                ko="`activation_stats`가 한 일을 읽을 수 없습니다.",
            )
        _returned(data, en, ko)
        yield observed[case], obs.reference(name)[case], en, ko


def _returned(data, en, ko):
    """Fail unless the call returned ``(output, stats)`` with a dict of statistics."""
    if data.get("raised"):
        error = str(data["raised"]).rstrip(".")
        why_en = why_ko = ""
        if "not tuple" in error:  # a hook returned something, which became the module's output
            why_en = (
                " A forward hook that returns a value replaces the module's output, and the next layer got "
                "that value: a hook that only records must return nothing."
            )
            why_ko = (
                " forward hook이 값을 돌려주면 그 값이 module의 출력이 되어 다음 layer로 넘어갑니다. "
                "기록만 하는 hook은 아무것도 return하지 마세요."
            )
        fail(
            en=f"`activation_stats(model, x)` raised {error} on {en}.{why_en}",
            ko=f"{ko}에서 `activation_stats(model, x)`가 {error} 오류를 냈습니다.{why_ko}",
        )
    if data.get("returned") != "pair":
        fail(
            en=f"`activation_stats` returned {data.get('returned')}; return the pair `(output, stats)`.",
            ko=f"`activation_stats`가 {data.get('returned')}을(를) 돌려줬습니다. `(output, stats)` 쌍을 돌려주세요.",
        )
    if data.get("stats_type") is not None:
        kind = data["stats_type"]
        fail(
            en=f"The second item `activation_stats` returned is {kind}; it should be a dict `{{name: (mean, std)}}`.",
            ko=f"`activation_stats`가 돌려준 두 번째 값이 {kind}입니다. `{{이름: (mean, std)}}` dict여야 합니다.",
        )


def _close(a, b):
    if a is None or b is None:
        return False
    if math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= 1e-5 + 1e-4 * abs(b)


@check(
    "returns",
    aspect="any",
    en="Define `activation_stats(model, x)` that returns `(output, stats)`.",
    ko="`(output, stats)`를 돌려주는 `activation_stats(model, x)`를 정의하세요.",
)
def returns(obs):
    for _ in _cases(obs, "returned"):
        pass


@check("stats", aspect="hooks")
def stats(obs):
    for data, ref, en, ko in _cases(obs, "stats"):
        got, want = data["stats"]["values"], ref["stats"]["values"]
        if not got:
            fail(
                en=f"`stats` is empty for {en}: no hook recorded anything. Register a forward hook on every "
                "`nn.Linear` and `nn.ReLU` of `model.named_modules()` before running the model, and store "
                "`(mean, std)` of the output in `stats[name]`.",
                ko=f"{ko}에서 `stats`가 비어 있습니다. 아무 hook도 기록하지 않았습니다. model을 실행하기 전에 "
                "`model.named_modules()`의 모든 `nn.Linear`와 `nn.ReLU`에 forward hook을 붙이고, 출력의 "
                "`(mean, std)`를 `stats[name]`에 저장하세요.",
            )
        missing = [n for n in want if n not in got]
        extra = [n for n in got if n not in want]
        if missing or extra:
            fail(
                en=f"For {en} the keys of `stats` should be the names {_names(want)} (from `named_modules()`, "
                f"one per `nn.Linear` and `nn.ReLU`); they are {_names(got)}. Missing: {_names(missing)}; "
                f"not expected: {_names(extra)}.",
                ko=f"{ko}에서 `stats`의 key는 {_names(want)}여야 합니다 (`named_modules()`의 이름, "
                f"`nn.Linear`와 `nn.ReLU`마다 하나). 지금은 {_names(got)}입니다. 빠진 것: {_names(missing)}, "
                f"없어야 할 것: {_names(extra)}.",
            )
        for name, expected in want.items():
            actual = got[name]
            if actual is None:
                fail(
                    en=f'`stats["{name}"]` should be a pair of numbers `(mean, std)`.',
                    ko=f'`stats["{name}"]`는 숫자 두 개의 쌍 `(mean, std)`여야 합니다.',
                )
            if not (_close(actual[0], expected[0]) and _close(actual[1], expected[1])):
                fail(
                    en=f'For {en}, `stats["{name}"]` is ({actual[0]:.4f}, {actual[1]:.4f}) but the output of '
                    f"`{name}` has mean {expected[0]:.4f} and std {expected[1]:.4f}. Compute both from the "
                    "module's output inside its hook, at the moment the hook runs.",
                    ko=f'{ko}에서 `stats["{name}"]`가 ({actual[0]:.4f}, {actual[1]:.4f})인데, `{name}`의 출력은 '
                    f"mean {expected[0]:.4f}, std {expected[1]:.4f}입니다. 두 값 모두 hook이 불리는 그 순간 "
                    "hook 안에서 module의 출력으로 계산하세요.",
                )


@check("plain_numbers", aspect="state")
def plain_numbers(obs):
    for data, ref, en, ko in _cases(obs, "stats"):
        kinds, want = data["stats"]["kinds"], ref["stats"]["kinds"]
        if not kinds:
            fail(
                en="There are no statistics to look at yet: see `stats` above.",
                ko="아직 살펴볼 통계가 없습니다. 위의 `stats`를 보세요.",
            )
        if kinds != want:
            fail(
                en=f"The statistics are {', '.join(kinds)}, not Python floats. Take the numbers out of the "
                "tensors with `.item()`, e.g. `out.mean().item()`, so that no tensor (and no graph) is kept.",
                ko=f"통계가 Python float가 아니라 {', '.join(kinds)}입니다. `out.mean().item()`처럼 `.item()`으로 "
                "숫자를 꺼내서 tensor(와 graph)가 남지 않게 하세요.",
            )


@check("model_called_once", aspect="hooks")
def model_called_once(obs):
    for data, ref, en, ko in _cases(obs, "calls"):
        calls, want = data.get("calls"), ref["calls"]
        if calls == want:
            continue
        if calls == 0:
            fail(
                en=f"On {en}, hooks that were already on the model did not run: the model was not called as "
                "`model(x)`. `model.forward(x)` skips the model's own hooks; call `model(x)`.",
                ko=f"{ko}에서 model에 원래 붙어 있던 hook이 실행되지 않았습니다. model을 `model(x)`로 부르지 "
                "않았습니다. `model.forward(x)`는 model 자신의 hook을 건너뜁니다. `model(x)`로 부르세요.",
            )
        fail(
            en=f"On {en}, hooks that were already on the model ran {calls} times; run the model once, "
            "`output = model(x)`, and take the output and the statistics from that one pass.",
            ko=f"{ko}에서 model에 원래 붙어 있던 hook이 {calls}번 실행되었습니다. model은 `output = model(x)`로 "
            "한 번만 실행하고, output과 통계를 그 한 번에서 얻으세요.",
        )


@check("hooks_removed", aspect="hooks")
def hooks_removed(obs):
    for data, _, en, ko in _cases(obs, "hooks_left"):
        left = data.get("left")
        if not isinstance(left, dict):
            fail(en="The probe could not read the model's hooks.", ko="model의 hook을 읽을 수 없습니다.")
        if left:
            where = ", ".join(f"`{name}` ({n})" for name, n in left.items())
            fail(
                en=f"After `activation_stats` returns, {en} still has your hooks on {where}. Keep the handle that "
                "each `register_forward_hook(...)` returns and call `handle.remove()` on every one of them, "
                "in a `finally:` block.",
                ko=f"`activation_stats`가 끝난 뒤에도 {ko}의 {where}에 hook이 남아 있습니다. "
                "`register_forward_hook(...)`이 돌려주는 handle을 모아 두고, `finally:` 안에서 모두 "
                "`handle.remove()`하세요.",
            )
        if data.get("global_hooks"):
            fail(
                en="Global module hooks are left registered after `activation_stats` returns; register the hooks "
                "on the modules themselves and remove them.",
                ko="`activation_stats`가 끝난 뒤 전역 module hook이 남아 있습니다. hook은 각 module에 붙이고 "
                "끝나면 떼세요.",
            )
        if data.get("theirs_kept") is not True:
            fail(
                en=f"Hooks that other code had put on {en} were removed too. `remove()` only the handles you got "
                "from your own `register_forward_hook(...)` calls; never clear `_forward_hooks`.",
                ko=f"다른 코드가 {ko}에 붙여 둔 hook까지 사라졌습니다. 직접 `register_forward_hook(...)`으로 받은 "
                "handle만 `remove()`하고, `_forward_hooks`를 비우지 마세요.",
            )


@check("no_new_records", aspect="hooks")
def no_new_records(obs):
    for data, _, en, ko in _cases(obs, "records"):
        changed = data.get("changed")
        if isinstance(changed, str):
            fail(
                en=f"Calling {en} again after `activation_stats` raised {changed}.",
                ko=f"`activation_stats` 뒤에 {ko}을 다시 부르자 {changed} 오류가 났습니다.",
            )
        if changed is not False:
            fail(
                en=f"Calling {en} again after `activation_stats` returned changed the `stats` it returned: a "
                "hook is still recording. Remove every hook before returning.",
                ko=f"`activation_stats`가 끝난 뒤 {ko}을 다시 부르자 돌려준 `stats`가 바뀌었습니다. 아직 기록하는 "
                "hook이 있습니다. 돌려주기 전에 hook을 모두 떼세요.",
            )


@check("output", aspect="forward")
def output(obs):
    for data, ref, en, ko in _cases(obs, "output"):
        got = data.get("output")
        if not isinstance(got, Tensor):
            fail(
                en=f"The first item `activation_stats` returned is {got}; return the model's output tensor.",
                ko=f"`activation_stats`가 돌려준 첫 번째 값이 {got}입니다. model의 출력 tensor를 돌려주세요.",
            )
        expect_close(got, ref["output"], what=f"the output on {en}")
        if data.get("grad_fn") is not ref["grad_fn"]:
            fail(
                en=f"The output on {en} has the right values but is cut off from the autograd graph "
                "(`output.grad_fn` is None), so no gradient could reach the layers. Run the model as usual, "
                "not under `torch.no_grad()`, and remember that a forward hook that returns a value replaces the "
                "module's output: a hook that only records must return nothing.",
                ko=f"{ko}의 출력 값은 맞지만 autograd graph에서 떨어져 있어(`output.grad_fn`이 None) gradient가 "
                "layer까지 갈 수 없습니다. model은 `torch.no_grad()` 없이 평소대로 실행하세요. 그리고 값을 돌려주는 "
                "forward hook은 module의 출력을 바꿔치기하니, 기록만 하는 hook은 아무것도 return하지 마세요.",
            )
        after = data.get("after")
        if not isinstance(after, Tensor):
            fail(
                en=f"Calling {en} after `activation_stats` raised {after}.",
                ko=f"`activation_stats` 뒤에 {ko}을 부르자 {after} 오류가 났습니다.",
            )
        expect_close(after, ref["after"], what=f"the output of {en} called after `activation_stats`")
