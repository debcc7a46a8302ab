"""Checks for evaluate: eval mode, no graph, sample-weighted mean loss and accuracy as floats, mode kept.

Judged on the server from what probe.py observed: the learner's evaluate ran on a classifier with
BatchNorm and Dropout whose weights and running statistics were drawn from this submission's seed,
over batches of 16, 16 and fewer samples; once on a model in training mode and once on a model in
eval mode. What it returned, the mode and graph recording of each forward pass, the gradients and
running statistics it left, and the mode afterwards are compared with the reference solution's.
"""

from questlab.grading.judge import CheckFailed, check, expect_printed, fail

LINES = (
    "epoch 5: val loss 0.3364, accuracy 0.883",
    "mode after evaluate: train",
    "running_mean unchanged: True",
    "graph recorded: False",
    "returns floats: True",
)


def _run(obs, name):
    data = obs[name]
    if data.get("raised"):
        error = str(data["raised"]).rstrip(".")
        fail(
            en=f"Calling `evaluate(model, batches, loss_fn)` raised {error}.",
            ko=f"`evaluate(model, batches, loss_fn)`를 호출하자 {error} 오류가 났습니다.",
        )
    if not data["forwards"]:
        fail(
            en="`evaluate` never calls the model. Loop over the batches: `for xb, yb in batches:` and compute "
            "`logits = model(xb)`.",
            ko="`evaluate`가 model을 한 번도 호출하지 않습니다. batch를 돌면서(`for xb, yb in batches:`) "
            "`logits = model(xb)`를 계산하세요.",
        )
    return data


def _pair(data):
    returned = data["returned"]
    if returned.get("kind") != "pair":
        fail(
            en=f"`evaluate` returns {returned.get('kind')}; return two numbers: `return mean_loss, accuracy`.",
            ko=f"`evaluate`가 {returned.get('kind')}을(를) 돌려줍니다. 숫자 두 개를 돌려주세요: "
            "`return mean_loss, accuracy`.",
        )
    return returned


def _sizes(data):
    return ", ".join(map(str, data["sizes"]))


@check("returns_two_floats", aspect="output")
def returns_two_floats(obs):
    returned = _pair(_run(obs, "from_train"))
    for key, ko_name in (("loss", "평균 loss"), ("accuracy", "accuracy")):
        value = returned[key]
        if value.get("kind") == "Tensor":
            graph_en = (
                " that still holds the graph of every batch (`requires_grad=True`)"
                if value.get("requires_grad")
                else ""
            )
            graph_ko = (
                "모든 batch의 graph가 매달린(`requires_grad=True`) " if value.get("requires_grad") else ""
            )
            fail(
                en=f"`evaluate` returns the {key} as a tensor{graph_en}. Add plain numbers with `.item()`, e.g. "
                "`total_loss += loss_fn(logits, yb).item() * len(xb)`, so that a Python float comes back.",
                ko=f"`evaluate`가 {ko_name}을(를) {graph_ko}tensor로 돌려줍니다. `.item()`으로 꺼낸 숫자를 "
                "더하세요. 예: `total_loss += loss_fn(logits, yb).item() * len(xb)`. 그래야 Python float가 "
                "돌아옵니다.",
            )
        if value.get("kind") != "float":
            fail(
                en=f"`evaluate` returns the {key} as {value.get('kind')}; return a Python float.",
                ko=f"`evaluate`가 {ko_name}을(를) {value.get('kind')}(으)로 돌려줍니다. Python float를 돌려주세요.",
            )


@check("eval_mode", aspect="state")
def eval_mode(obs):
    data = _run(obs, "from_train")
    if any(f["training"] for f in data["forwards"]):
        fail(
            en="The grader called `evaluate` on a model in training mode, and the model ran in training mode: "
            "Dropout zeroed units at random and BatchNorm normalised with each batch's own statistics, so the "
            "loss is noisy and wrong. Call `model.eval()` before the loop.",
            ko="채점기가 training mode인 model로 `evaluate`를 불렀는데, model이 training mode 그대로 실행됐습니다. "
            "Dropout이 무작위로 값을 지우고 BatchNorm이 batch마다의 통계로 정규화해서 loss가 흔들리고 틀립니다. "
            "loop 앞에서 `model.eval()`을 호출하세요.",
        )


@check("no_graph", aspect="state")
def no_graph(obs):
    data = _run(obs, "from_train")
    graphs = sum(f["graph"] for f in data["forwards"])
    if graphs:
        fail(
            en=f"Autograd recorded a graph in {graphs} of the {len(data['forwards'])} forward passes of "
            "`evaluate` (their outputs have `requires_grad=True`): memory and time spent on a `backward()` "
            "that never comes. Run the loop inside `with torch.no_grad():`.",
            ko=f"`evaluate`의 forward {len(data['forwards'])}번 중 {graphs}번에서 autograd가 graph를 기록했습니다"
            "(출력이 `requires_grad=True`). 오지 않을 `backward()`를 위해 메모리와 시간을 쓰는 셈입니다. loop를 "
            "`with torch.no_grad():` 안에서 돌리세요.",
        )
    if data["grads"]:
        fail(
            en=f"After `evaluate`, {', '.join(data['grads'])} hold a `.grad`: evaluation must not call "
            "`backward()`.",
            ko=f"`evaluate` 뒤에 {', '.join(data['grads'])}에 `.grad`가 생겼습니다. 평가에서는 `backward()`를 "
            "호출하지 않습니다.",
        )


@check("running_stats_unchanged", aspect="state")
def running_stats_unchanged(obs):
    data, ref = _run(obs, "from_train"), obs.reference("from_train")
    if data["stats_changed"]:
        fail(
            en="`evaluate` changed BatchNorm's running statistics (`num_batches_tracked` went from "
            f"{ref['batches_tracked']} to {data['batches_tracked']}): in training mode every forward pass "
            "updates them, so measuring the model changes it. In eval mode BatchNorm only reads them: call "
            "`model.eval()` before the loop.",
            ko="`evaluate`가 BatchNorm의 running 통계를 바꿨습니다(`num_batches_tracked`가 "
            f"{ref['batches_tracked']}에서 {data['batches_tracked']}로). training mode에서는 forward마다 이 "
            "통계가 갱신되니, model을 재는 일이 model을 바꿉니다. eval mode의 BatchNorm은 읽기만 합니다. loop "
            "앞에서 `model.eval()`을 호출하세요.",
        )


def _measured_in_eval_mode(data):
    if any(f["training"] for f in data["forwards"]):
        fail(
            en="The model ran in training mode, so its loss and accuracy cannot match those of the model in eval "
            "mode: fix `eval_mode` above first.",
            ko="model이 training mode로 실행되어 loss와 accuracy가 eval mode의 값과 같을 수 없습니다. 위의 "
            "`eval_mode`부터 고치세요.",
        )


def _number(returned, key):
    value = returned.get(key, {})
    return value.get("value") if isinstance(value.get("value"), float) else None


@check("mean_loss", aspect="output")
def mean_loss(obs):
    data, ref = _run(obs, "from_train"), obs.reference("from_train")
    _measured_in_eval_mode(data)
    got, want = _number(_pair(data), "loss"), _number(ref["returned"], "loss")
    if got is None or abs(got - want) > 1e-5 + 1e-4 * abs(want):
        shown = f"{got:.4f}" if got is not None else "no number"
        fail(
            en=f"Over batches of {_sizes(ref)} samples, `evaluate` returned a mean loss of {shown}; the mean "
            f"loss per sample is {want:.4f}. Weight each batch's mean by its size: add "
            "`loss_fn(logits, yb).item() * len(xb)` and divide by the number of samples.",
            ko=f"batch가 {_sizes(ref)}개일 때 `evaluate`가 돌려준 평균 loss는 {shown}입니다. 샘플당 평균 loss는 "
            f"{want:.4f}입니다. batch 평균에 batch 크기를 곱해 더하고(`loss_fn(logits, yb).item() * len(xb)`) "
            "전체 샘플 수로 나누세요.",
        )


@check("accuracy", aspect="output")
def accuracy(obs):
    data, ref = _run(obs, "from_train"), obs.reference("from_train")
    _measured_in_eval_mode(data)
    got, want = _number(_pair(data), "accuracy"), _number(ref["returned"], "accuracy")
    if got is None or abs(got - want) > 1e-6:
        shown = f"{got:.4f}" if got is not None else "no number"
        fail(
            en=f"Over batches of {_sizes(ref)} samples, `evaluate` returned an accuracy of {shown}; the share "
            f"of correctly classified samples is {want:.4f}. Count the correct predictions, "
            "`(logits.argmax(dim=1) == yb).sum().item()`, over all batches and divide by the number of samples.",
            ko=f"batch가 {_sizes(ref)}개일 때 `evaluate`가 돌려준 accuracy는 {shown}입니다. 맞게 분류한 샘플의 "
            f"비율은 {want:.4f}입니다. 모든 batch에서 맞힌 개수 `(logits.argmax(dim=1) == yb).sum().item()`를 "
            "더해 전체 샘플 수로 나누세요.",
        )


@check("mode_restored", aspect="state")
def mode_restored(obs):
    for name, before, en_mode, ko_mode in (
        ("from_train", True, "training", "training"),
        ("from_eval", False, "eval", "eval"),
    ):
        data = _run(obs, name)
        if any(flag != before for flag in data["training_after"]):
            fail(
                en=f"The grader called `evaluate` on a model in {en_mode} mode, and afterwards the model was no "
                "longer in it. Leave it in the mode it was in: remember `was_training = model.training` before "
                "`model.eval()`, and call `model.train(was_training)` at the end.",
                ko=f"채점기가 {ko_mode} mode인 model로 `evaluate`를 불렀는데, 끝난 뒤 model의 mode가 바뀌어 "
                "있었습니다. 원래 mode로 돌려놓으세요. `model.eval()` 전에 `was_training = model.training`을 "
                "기억해 두고, 끝에서 `model.train(was_training)`을 호출하면 됩니다.",
            )


@check("printed", aspect="output", uses_output=True)
def printed(obs):
    # Printing alone passes nothing: the lines count once evaluate works on fresh models and batches.
    try:
        for judged in (
            returns_two_floats,
            eval_mode,
            no_graph,
            running_stats_unchanged,
            mean_loss,
            accuracy,
            mode_restored,
        ):
            judged(obs)
    except CheckFailed:
        fail(
            en="The printed lines count once `evaluate` works on fresh models and batches: fix the checks above "
            "first.",
            ko="`evaluate`가 새 model과 batch에서 제대로 동작해야 출력도 인정됩니다. 위의 검사부터 고치세요.",
        )
    for line in LINES:
        expect_printed(obs, line)
