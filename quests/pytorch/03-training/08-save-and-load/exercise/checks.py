"""Checks for save_checkpoint/load_checkpoint: one rewound BytesIO with epoch, model and optimizer state.

Judged on the server from what probe.py observed with a model and an Adam optimizer trained on
data drawn from this submission's seed: what save_checkpoint wrote (read back with
weights_only=True), what load_checkpoint put into fresh objects from a checkpoint in the
prompt's format and from one saved with the model inside nn.DataParallel, and whether load_checkpoint runs code hidden in a checkpoint; each is compared
with the reference solution's.
"""

from questlab.grading.judge import CheckFailed, check, expect_printed, fail
from questlab.grading.judge.wire import same

SAVE = (
    '`torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, buf)`'
)
LINES = ("epoch: 3", "lr: 0.005", "all match: True", "from DataParallel: True")


def _raised(data, what):
    if data.get("raised"):
        error = str(data["raised"]).rstrip(".")
        fail(en=f"Calling `{what}` raised {error}.", ko=f"`{what}`를 호출하자 {error} 오류가 났습니다.")


def _saved(obs):
    """What save_checkpoint returned, once it is a file-like object with something in it."""
    data = obs["saved"]
    _raised(data, "save_checkpoint(model, optimizer, epoch)")
    if data.get("kind") != "file":
        fail(
            en=f"`save_checkpoint` returned {data.get('kind')}; return the `io.BytesIO` you saved into.",
            ko=f"`save_checkpoint`가 {data.get('kind')}을(를) 돌려줬습니다. 저장한 `io.BytesIO`를 돌려주세요.",
        )
    if not data["size"]:
        fail(
            en=f"`save_checkpoint` returned an empty BytesIO. Write the checkpoint into it: {SAVE}, then "
            "`buf.seek(0)`.",
            ko=f"`save_checkpoint`가 빈 BytesIO를 돌려줬습니다. checkpoint를 써 넣으세요: {SAVE} 다음 "
            "`buf.seek(0)`.",
        )
    return data


@check("rewound", aspect="state")
def rewound(obs):
    data = _saved(obs)
    if data["position"] != 0:
        fail(
            en=f"The BytesIO that `save_checkpoint` returns is positioned at byte {data['position']} (its end), "
            "so `torch.load` finds nothing to read. Rewind it with `buf.seek(0)` before `return buf`.",
            ko=f"`save_checkpoint`가 돌려준 BytesIO의 위치가 {data['position']}번째 byte(끝)에 있어서 "
            "`torch.load`가 읽을 것이 없습니다. `return buf` 전에 `buf.seek(0)`으로 되감으세요.",
        )


@check("checkpoint_contents", aspect="state")
def checkpoint_contents(obs):
    data, ref = _saved(obs), obs.reference("saved")
    if data.get("load_error"):
        fail(
            en=f"`torch.load(buf, weights_only=True)` cannot read the checkpoint ({data['load_error']}): it "
            f"holds more than tensors, numbers and dicts. Save only state: {SAVE}.",
            ko=f"`torch.load(buf, weights_only=True)`가 checkpoint를 읽지 못합니다 ({data['load_error']}). "
            f"tensor, 숫자, dict 말고 다른 것이 들어 있습니다. state만 저장하세요: {SAVE}.",
        )
    got, want = data["contents"], ref["contents"]
    if got.get("kind") != "dict" or got["keys"] != want["keys"]:
        shown = ", ".join(got["keys"]) if got.get("kind") == "dict" else got.get("kind")
        fail(
            en=f"The checkpoint should be one dict with the keys {', '.join(want['keys'])}; it is: {shown}.",
            ko=f"checkpoint는 {', '.join(want['keys'])} key를 가진 dict 하나여야 하는데 실제로는 {shown}입니다.",
        )
    if not same(got["epoch"], want["epoch"]):
        fail(
            en=f"`save_checkpoint(model, optimizer, epoch={ref['epoch_saved']})` saved epoch {got['epoch']!r}; "
            "save the `epoch` argument.",
            ko=f"`save_checkpoint(model, optimizer, epoch={ref['epoch_saved']})`이 epoch을 {got['epoch']!r}로 "
            "저장했습니다. 인자로 받은 `epoch`을 저장하세요.",
        )
    if not same(got["model"], want["model"], atol=0, rtol=0):
        fail(
            en='`checkpoint["model"]` is not the model\'s state: save `model.state_dict()`.',
            ko='`checkpoint["model"]`이 model의 state가 아닙니다. `model.state_dict()`를 저장하세요.',
        )
    if not same(got["optimizer"], want["optimizer"], atol=0, rtol=0):
        fail(
            en='`checkpoint["optimizer"]` is not the optimizer\'s state: save `optimizer.state_dict()`.',
            ko='`checkpoint["optimizer"]`이 optimizer의 state가 아닙니다. `optimizer.state_dict()`를 저장하세요.',
        )


@check("round_trip", aspect="state")
def round_trip(obs):
    data, ref = obs["loaded"], obs.reference("loaded")
    _raised(data, "load_checkpoint(buf, model, optimizer)")
    if not same(data["returned"], ref["returned"]):
        fail(
            en=f"`load_checkpoint` returned {data['returned']!r} for a checkpoint saved at epoch "
            f"{ref['epoch_saved']}; return the saved epoch, `checkpoint[\"epoch\"]`.",
            ko=f"epoch {ref['epoch_saved']}에 저장한 checkpoint에서 `load_checkpoint`가 {data['returned']!r}을 "
            '돌려줬습니다. 저장된 epoch, 즉 `checkpoint["epoch"]`를 돌려주세요.',
        )
    if not same(data["model"], ref["model"], atol=0, rtol=0):
        fail(
            en="After `load_checkpoint` the fresh model's weights differ from the saved ones. Fill the model with "
            '`model.load_state_dict(checkpoint["model"])`.',
            ko="`load_checkpoint` 뒤에도 새 model의 weight가 저장한 것과 다릅니다. "
            '`model.load_state_dict(checkpoint["model"])`로 채우세요.',
        )
    if not same(data["optimizer"], ref["optimizer"], atol=0, rtol=0):
        fail(
            en="After `load_checkpoint` the fresh optimizer's state (Adam's moments, the step count, the changed "
            'lr) differs from the saved one. Fill it with `optimizer.load_state_dict(checkpoint["optimizer"])`.',
            ko="`load_checkpoint` 뒤에도 새 optimizer의 state(Adam의 moment, step 수, 바꾼 lr)가 저장한 것과 "
            '다릅니다. `optimizer.load_state_dict(checkpoint["optimizer"])`로 채우세요.',
        )


@check("module_prefix", aspect="state")
def module_prefix(obs):
    data, ref = obs["from_parallel"], obs.reference("from_parallel")
    strip = '`{key.removeprefix("module."): value for key, value in checkpoint["model"].items()}`'
    if data.get("raised"):
        error = str(data["raised"]).split("\n")[0].rstrip(".:")
        fail(
            en="The grader gave `load_checkpoint` a checkpoint saved from the model wrapped in `nn.DataParallel`, "
            f"whose keys read `module.0.weight` instead of `0.weight`, and the call raised {error}. Strip the "
            f"prefix before `load_state_dict`: {strip}.",
            ko="채점기가 `nn.DataParallel`로 감싼 model에서 저장한 checkpoint를 `load_checkpoint`에 넘겼습니다. "
            f"key가 `0.weight`가 아니라 `module.0.weight`인데, 호출하자 {error} 오류가 났습니다. "
            f"`load_state_dict` 전에 prefix를 떼세요: {strip}.",
        )
    if not same(data["model"], ref["model"], atol=0, rtol=0):
        fail(
            en="From a checkpoint saved with the model wrapped in `nn.DataParallel` (keys `module.0.weight`, ...), "
            "the fresh model did not get the saved weights. `strict=False` does not help: it matches no key "
            f"and loads nothing. Strip the prefix before `load_state_dict`: {strip}.",
            ko="`nn.DataParallel`로 감싼 model에서 저장한 checkpoint(key가 `module.0.weight`, ...)에서 새 model이 "
            "저장된 weight를 받지 못했습니다. `strict=False`로는 안 됩니다. 맞는 key가 없어 아무것도 불러오지 "
            f"않기 때문입니다. `load_state_dict` 전에 prefix를 떼세요: {strip}.",
        )


@check("refuses_untrusted", aspect="state")
def refuses_untrusted(obs):
    if obs["untrusted"]["ran_code"]:
        fail(
            en="The grader gave `load_checkpoint` a checkpoint holding an object whose unpickling calls "
            "`print(...)`, and the call ran: this way a checkpoint from an untrusted source can run any code on "
            "your machine. Load with the default `torch.load(buf)` (`weights_only=True`), which refuses such "
            "objects.",
            ko="채점기가 unpickle하는 순간 `print(...)`를 호출하는 객체가 든 checkpoint를 `load_checkpoint`에 "
            "넘겼는데, 그 호출이 실행되었습니다. 이렇게 출처를 모르는 checkpoint는 여러분의 컴퓨터에서 어떤 "
            "코드든 실행할 수 있습니다. 그런 객체를 거부하는 기본값 `torch.load(buf)`(`weights_only=True`)로 "
            "불러오세요.",
        )


@check("printed", aspect="output", uses_output=True)
def printed(obs):
    # Printing alone passes nothing: the lines count once both functions work on fresh objects.
    try:
        for judged in (rewound, checkpoint_contents, round_trip, module_prefix, refuses_untrusted):
            judged(obs)
    except CheckFailed:
        fail(
            en="The printed lines count once `save_checkpoint` and `load_checkpoint` work on fresh objects: fix "
            "the checks above first.",
            ko="`save_checkpoint`와 `load_checkpoint`가 새 객체에서 제대로 동작해야 출력도 인정됩니다. 위의 "
            "검사부터 고치세요.",
        )
    for line in LINES:
        expect_printed(obs, line)
