"""Checks for predict: eval mode while it runs, no autograd, running statistics untouched, mode restored.

Judged on the server from what probe.py observed on two models built from the submission's seed
(an nn.Sequential, and a nested model with BatchNorm and Dropout inside `features`), each called
starting in train mode and in eval mode; the outputs are compared with the reference solution's
on the same models and inputs.
"""

from questlab.grading.judge import CheckFailed, Tensor, check, expect_close, fail

MODELS = {
    "seq": (
        "an `nn.Sequential` with BatchNorm1d and Dropout",
        "BatchNorm1d와 Dropout이 있는 `nn.Sequential`",
    ),
    "nested": (
        "a model with BatchNorm1d and Dropout inside `self.features`",
        "`self.features` 안에 BatchNorm1d와 Dropout이 있는 model",
    ),
}
STARTS = ("train", "eval")


def _names(names):
    return ", ".join(f"`{n}`" for n in names) or "-"


def _runs(obs, name):
    """``(learner data, reference data, en place, ko place, start)`` of observation ``name`` for every
    (model, starting mode), after checking that ``predict`` returned a tensor there."""
    returned, observed = obs["returned"], obs[name]
    for case, (model_en, model_ko) in MODELS.items():
        for start in STARTS:
            run = f"{case}/{start}"
            en = f"{model_en} in {start} mode"
            ko = f"{model_ko}({start} mode에서 시작)"
            data = returned.get(run) if isinstance(returned, dict) else None
            if (
                not isinstance(data, dict)
                or not isinstance(observed, dict)
                or not isinstance(observed.get(run), dict)
            ):
                fail(
                    en="The probe could not read what `predict` did.",
                    ko="`predict`가 한 일을 읽을 수 없습니다.",
                )
            if data.get("raised"):
                error = str(data["raised"]).rstrip(".")
                fail(
                    en=f"`predict(model, x)` raised {error} on {en}.",
                    ko=f"{ko}에서 `predict(model, x)`가 {error} 오류를 냈습니다.",
                )
            if data.get("kind") != "Tensor":
                fail(
                    en=f"`predict(model, x)` returned {data.get('kind')}; return the model's output tensor.",
                    ko=f"`predict(model, x)`가 {data.get('kind')}을(를) 돌려줬습니다. model의 출력 tensor를 돌려주세요.",
                )
            yield observed[run], obs.reference(name)[run], en, ko, start


@check(
    "returns",
    aspect="any",
    en="Define `predict(model, x)` that returns the model's output for `x`.",
    ko="`x`에 대한 model의 출력을 돌려주는 `predict(model, x)`를 정의하세요.",
)
def returns(obs):
    for _ in _runs(obs, "returned"):
        pass


@check("eval_mode", aspect="state")
def eval_mode(obs):
    for data, ref, en, ko, _ in _runs(obs, "during"):
        during, want = data["during"], ref["during"]
        if not isinstance(during, dict) or not during:
            fail(en="`predict` did not run the model.", ko="`predict`가 model을 실행하지 않았습니다.")
        training = [name for name, mode in during.items() if mode and not want.get(name, True)]
        if not training:
            continue
        if during.get("(model)") is False:
            fail(
                en=f"On {en}, the model itself was in eval mode but {_names(training)} were still in train "
                "mode while `predict` ran them. Setting `model.training = False` changes only the model's own "
                "flag; `model.eval()` sets it on every submodule.",
                ko=f"{ko}에서 model 자신은 eval mode였지만 {_names(training)}은(는) train mode로 실행되었습니다. "
                "`model.training = False`는 model 자신의 flag만 바꿉니다. `model.eval()`이 모든 하위 module의 "
                "flag를 바꿉니다.",
            )
        fail(
            en=f"On {en}, `predict` ran the model in train mode ({_names(training)} had `training=True`), so "
            "Dropout was on and BatchNorm used batch statistics. Call `model.eval()` before the forward pass.",
            ko=f"{ko}에서 `predict`가 model을 train mode로 실행했습니다 ({_names(training)}의 `training`이 "
            "True). Dropout이 켜지고 BatchNorm이 batch 통계를 썼습니다. forward 전에 `model.eval()`을 부르세요.",
        )


@check("output", aspect="forward")
def output(obs):
    for data, ref, en, ko, _ in _runs(obs, "outputs"):
        got = data["output"]
        if not isinstance(got, Tensor):
            fail(en="`predict` returned no tensor.", ko="`predict`가 tensor를 돌려주지 않았습니다.")
        try:
            expect_close(got, ref["output"], what=f"`predict(model, x)` on {en}")
        except CheckFailed:
            fail(
                en=f"`predict(model, x)` on {en} differs from the model's output in eval mode: Dropout must be "
                "off and BatchNorm must normalise with its running statistics.",
                ko=f"{ko}에서 `predict(model, x)`의 값이 eval mode에서 model이 내는 출력과 다릅니다. Dropout은 "
                "꺼져 있고 BatchNorm은 running 통계로 정규화해야 합니다.",
            )


@check("deterministic", aspect="forward")
def deterministic(obs):
    for data, _, en, ko, _ in _runs(obs, "repeat"):
        same = data["same_twice"]
        if isinstance(same, str):
            fail(
                en=f"The second call of `predict` on {en} raised {same}.",
                ko=f"{ko}에서 `predict`를 두 번째로 부르자 {same} 오류가 났습니다.",
            )
        if same is not True:
            fail(
                en=f"Two calls of `predict(model, x)` with the same `x` on {en} returned different values: "
                "Dropout is still active. Call `model.eval()` first.",
                ko=f"{ko}에서 같은 `x`로 `predict(model, x)`를 두 번 부르자 다른 값이 나왔습니다. Dropout이 아직 "
                "켜져 있습니다. 먼저 `model.eval()`을 부르세요.",
            )


@check("running_stats", aspect="state")
def running_stats(obs):
    for data, ref, en, ko, _ in _runs(obs, "buffers"):
        changed = [name for name in data["changed"] if name not in ref["changed"]]
        if changed:
            fail(
                en=f"`predict` changed the buffers {_names(changed)} of {en}: BatchNorm in train mode updates its "
                "running statistics on every forward pass, even under `torch.no_grad()`. Put the model in eval "
                "mode with `model.eval()` before the forward pass.",
                ko=f"`predict`가 {ko}의 buffer {_names(changed)}을(를) 바꿨습니다. train mode의 BatchNorm은 "
                "`torch.no_grad()` 안에서도 forward마다 running 통계를 갱신합니다. forward 전에 `model.eval()`로 "
                "eval mode로 바꾸세요.",
            )


@check("no_autograd", aspect="state")
def no_autograd(obs):
    for data, ref, en, ko, _ in _runs(obs, "graph"):
        if data["grad_fn"] is not ref["grad_fn"] or data["requires_grad"] is not ref["requires_grad"]:
            fail(
                en=f"The output of `predict` on {en} carries an autograd graph (`grad_fn` is set): `model.eval()` "
                "does not turn autograd off. Run the forward pass inside `with torch.no_grad():` or "
                "`with torch.inference_mode():`.",
                ko=f"{ko}에서 `predict`의 출력에 autograd graph가 붙어 있습니다(`grad_fn`이 있음). `model.eval()`은 "
                "autograd를 끄지 않습니다. forward를 `with torch.no_grad():`나 `with torch.inference_mode():` 안에서 "
                "실행하세요.",
            )


@check("mode_restored", aspect="state")
def mode_restored(obs):
    for data, ref, en, ko, start in _runs(obs, "modes"):
        modes, want = data["modes"], ref["modes"]
        wrong = [name for name, mode in want.items() if modes.get(name) is not mode]
        if wrong:
            now = "train" if modes.get("(model)") else "eval"
            fail(
                en=f"`predict` was called on {en} and left it in {now} mode ({_names(wrong)} changed). Remember "
                "`was_training = model.training` before `model.eval()` and put it back with "
                "`model.train(was_training)` in a `finally:` block.",
                ko=f"{ko}에 `predict`를 불렀더니 {now} mode로 남았습니다 ({_names(wrong)}이(가) 바뀜). "
                "`model.eval()` 전에 `was_training = model.training`을 기억해 두고, `finally:` 안에서 "
                "`model.train(was_training)`으로 되돌리세요.",
            )
