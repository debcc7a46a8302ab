"""Checks for regression_loss, classification_loss and binary_loss.

Judged on the server from what probe.py observed: each function ran on inputs drawn from this
submission's seed (16 regression samples; 12 samples of 5 classes with seeded class weights;
16 binary samples), and the loss it returned and the gradient it sends back to the predictions
are compared with the reference solution's on the same draw.
"""

from questlab.grading.judge import CheckFailed, check, expect_close, fail


def _number(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _returned(obs, name, call, fix_en, fix_ko, reading=None):
    """Fail unless ``call`` returned the reference's loss, one number with the reference's gradient.

    ``fix_en``/``fix_ko`` say how the loss is computed (shown when the value is wrong); ``reading``
    maps a wrong value and the right one to ``(en, ko)`` sentences saying what the value looks like,
    or to ``None``.
    """
    data, ref = obs[name], obs.reference(name)
    if data.get("raised"):
        error = str(data["raised"]).rstrip(".")
        fail(
            en=f"Calling `{call}` on the grader's inputs raised {error}. {fix_en}",
            ko=f"채점기의 입력으로 `{call}`를 호출하자 {error} 오류가 났습니다. {fix_ko}",
        )
    if data.get("kind") != "Tensor":
        fail(
            en=f"`{call}` returned a {data.get('kind')}, not a tensor. Return the loss tensor itself, without "
            "`.item()`: the training loop calls `loss.backward()` on it.",
            ko=f"`{call}`가 tensor가 아닌 {data.get('kind')}을(를) 돌려줬습니다. `.item()` 없이 loss tensor를 "
            "그대로 돌려주세요. training loop가 거기에 `loss.backward()`를 부릅니다.",
        )
    if data["shape"] != ref["shape"]:
        fail(
            en=f"`{call}` returned a tensor of shape {tuple(data['shape'])}; a loss to train on is one number, "
            'shape `()`. Keep the default `reduction="mean"`: `reduction="none"` gives one loss per sample.',
            ko=f"`{call}`가 shape {tuple(data['shape'])}인 tensor를 돌려줬습니다. 학습에 쓰는 loss는 숫자 하나, "
            'shape `()`입니다. 기본값 `reduction="mean"`을 그대로 두세요. `reduction="none"`은 샘플마다 '
            "loss를 하나씩 줍니다.",
        )
    got, want = data["value"].values[0], ref["value"].values[0]
    if abs(got - want) > 1e-5 + 1e-4 * abs(want):
        seen = reading(got, want) if reading else None
        hint_en, hint_ko = (f" {seen[0]}", f" {seen[1]}") if seen else ("", "")
        fail(
            en=f"On the grader's inputs `{call}` returned {_number(got)}; it should be {_number(want)}.{hint_en} "
            f"{fix_en}",
            ko=f"채점기의 입력에서 `{call}`가 {_number(got)}을(를) 돌려줬습니다. {_number(want)}이어야 "
            f"합니다.{hint_ko} {fix_ko}",
        )
    if data.get("grad") is None:
        detail = f" (`backward()` raised {data['backward']})" if data.get("backward") else ""
        fail(
            en=f"The value of `{call}` is right, but `loss.backward()` sends no gradient back to the "
            f"predictions{detail}, so training would not move the model. Compute the loss from the tensors "
            "you were given, without `.detach()`, `.item()` or `torch.no_grad()`.",
            ko=f"`{call}`의 값은 맞지만 `loss.backward()`가 예측값까지 gradient를 보내지 않습니다{detail}. 이대로는 "
            "학습해도 model이 움직이지 않습니다. `.detach()`, `.item()`, `torch.no_grad()` 없이 받은 tensor로 "
            "loss를 계산하세요.",
        )
    try:
        expect_close(data["grad"], ref["grad"], what="the gradient", atol=1e-6, rtol=1e-4)
    except CheckFailed:
        fail(
            en=f"`{call}` returns the right value, but the gradient it sends back to the predictions differs "
            f"from the reference's. {fix_en}",
            ko=f"`{call}`의 값은 맞지만 예측값으로 돌아가는 gradient가 reference와 다릅니다. {fix_ko}",
        )


def _summed(got, want):
    """The sentences for a regression loss that is the sum over the 16 samples instead of the mean."""
    if want and abs(got / want - 16) < 1e-3:
        return (
            "That is 16 times the mean over the 16 samples: the losses were summed, not averaged.",
            "샘플 16개의 평균에 16을 곱한 값입니다. loss를 평균하지 않고 더했습니다.",
        )
    return None


@check("regression", aspect="output")
def regression(obs):
    _returned(
        obs,
        "regression",
        "regression_loss(pred, target)",
        "The mean of the squared errors is `nn.MSELoss()(pred, target)`.",
        "제곱 오차의 평균은 `nn.MSELoss()(pred, target)`입니다.",
        _summed,
    )


@check("classification", aspect="output")
def classification(obs):
    _returned(
        obs,
        "classification",
        "classification_loss(logits, target, class_weight)",
        "Give the raw logits and the int64 class indices to "
        "`nn.CrossEntropyLoss(weight=class_weight, label_smoothing=0.1)` as they are: no softmax before it, "
        "no one-hot, no `.float()`.",
        "raw logits와 int64 class index를 그대로 `nn.CrossEntropyLoss(weight=class_weight, "
        "label_smoothing=0.1)`에 넘기세요. 앞에 softmax도, one-hot도, `.float()`도 필요 없습니다.",
    )


@check("binary", aspect="output")
def binary(obs):
    _returned(
        obs,
        "binary",
        "binary_loss(logits, target)",
        "Give the raw logits and the float 0/1 targets to `nn.BCEWithLogitsLoss()`: it applies the sigmoid "
        "itself and stays exact for large logits, where `torch.sigmoid` rounds to 1.0 and `nn.BCELoss` clips "
        "its log at -100.",
        "raw logits와 float 0/1 target을 `nn.BCEWithLogitsLoss()`에 넘기세요. sigmoid는 그 안에서 계산되고, "
        "logit이 커도 값이 정확합니다. 큰 logit에서는 `torch.sigmoid`가 1.0으로 반올림되고 `nn.BCELoss`는 "
        "log를 -100에서 자릅니다.",
    )
