"""Checks for make_optimizer (SGD, two param groups, momentum as a default) and scale_lr (every lr).

Judged on the server from what probe.py observed on fresh `Net()` objects: the param groups by
parameter name, where two steps with seeded gradients leave the parameters, what a group added
later inherits, and what scale_lr does to seeded learning rates; each is compared with the
reference solution's.
"""

from questlab.grading.judge import CheckFailed, check, expect_close, expect_printed, fail

PARTS = ("backbone", "head")
LINES = (
    "group 0: lr=0.001 momentum=0.9 weight_decay=0 params=4",
    "group 1: lr=0.01 momentum=0.9 weight_decay=0.0001 params=2",
    "every parameter in a group: True",
    "after scale_lr(0.1): ['0.0001', '0.001']",
)


def _close(a, b):
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    return numbers and abs(a - b) <= 1e-12 + 1e-9 * abs(b)


def _g(value):
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _raised(data, what=None):
    """Fail when the observed call raised, or when make_optimizer returned no optimizer."""
    if data.get("raised"):
        error = str(data["raised"]).rstrip(".")
        what = what or data.get("in") or "make_optimizer(Net())"
        fail(
            en=f"Calling `{what}` raised {error}.",
            ko=f"`{what}`를 호출하자 {error} 오류가 났습니다.",
        )
    if "class" in data and what is None:
        fail(
            en=f"`make_optimizer` returned {data['class']}, not an optimizer (see `param_groups`).",
            ko=f"`make_optimizer`가 optimizer가 아닌 {data['class']}을(를) 돌려줬습니다 (`param_groups` 참고).",
        )


@check("param_groups", aspect="parameters")
def param_groups(obs):
    data, ref = obs["groups"], obs.reference("groups")
    _raised(data, "make_optimizer(Net())")
    if data.get("class") != ref["class"]:
        fail(
            en=f"`make_optimizer` returned {data.get('class')}; return a `torch.optim.SGD`.",
            ko=f"`make_optimizer`가 {data.get('class')}을(를) 돌려줬습니다. `torch.optim.SGD`를 돌려주세요.",
        )
    groups, want = data["groups"], ref["groups"]
    if len(groups) != len(want):
        fail(
            en=f"The optimizer has {len(groups)} param group(s); it should have {len(want)}. Pass a list of two "
            'dicts: `torch.optim.SGD([{"params": model.backbone.parameters(), ...}, '
            '{"params": model.head.parameters(), ...}], momentum=0.9)`.',
            ko=f"optimizer의 param group이 {len(groups)}개입니다. {len(want)}개여야 합니다. dict 두 개의 list를 "
            '넘기세요: `torch.optim.SGD([{"params": model.backbone.parameters(), ...}, '
            '{"params": model.head.parameters(), ...}], momentum=0.9)`.',
        )
    for i, (part, group, expected) in enumerate(zip(PARTS, groups, want, strict=True)):
        if sorted(group["params"]) != sorted(expected["params"]) or len(group["params"]) != len(
            expected["params"]
        ):
            fail(
                en=f"Group {i} should hold exactly the parameters of `model.{part}` "
                f"(`model.{part}.parameters()`); it holds {', '.join(group['params']) or 'none'}.",
                ko=f"group {i}에는 `model.{part}`의 parameter(`model.{part}.parameters()`)만 정확히 들어 있어야 "
                f"하는데 실제로는 {', '.join(group['params']) or '아무것도 없습니다'}.",
            )
        keys = ("lr", "weight_decay", "momentum")
        if not all(_close(group[k], expected[k]) for k in keys):
            got = ", ".join(f"{k}={_g(group[k])}" for k in keys)
            should = ", ".join(f"{k}={_g(expected[k])}" for k in keys)
            fail(
                en=f"Group {i} (`{part}`) has {got}; it should have {should}.",
                ko=f"group {i}(`{part}`)의 설정이 {got}입니다. {should}여야 합니다.",
            )
    if data["unassigned"]:
        fail(
            en=f"{', '.join(data['unassigned'])} is in no param group, so it is never trained.",
            ko=f"{', '.join(data['unassigned'])}이(가) 어느 param group에도 없어서 학습되지 않습니다.",
        )


@check("momentum_default", aspect="parameters")
def momentum_default(obs):
    data, ref = obs["added_group"], obs.reference("added_group")
    _raised(data)
    if not _close(data.get("momentum"), ref["momentum"]):
        fail(
            en=f"A param group added later with `optimizer.add_param_group(...)` gets momentum "
            f"{_g(data.get('momentum'))} from your optimizer's defaults; it should get {_g(ref['momentum'])}. "
            "Give `momentum=0.9` once, as a keyword of `torch.optim.SGD(...)` after the list of groups, so that "
            "every group takes it as the default.",
            ko="`optimizer.add_param_group(...)`로 나중에 추가한 param group이 기본값에서 momentum "
            f"{_g(data.get('momentum'))}을(를) 받습니다. {_g(ref['momentum'])}이어야 합니다. `momentum=0.9`는 "
            "group list 뒤에 `torch.optim.SGD(...)`의 keyword로 한 번만 주어 모든 group이 기본값으로 쓰게 "
            "하세요.",
        )
    for key in ("weight_decay", "dampening", "nesterov"):
        if data.get(key) != ref[key] and not _close(data.get(key), ref[key]):
            fail(
                en=f"A param group added later gets {key}={_g(data.get(key))} from your optimizer's defaults; "
                f"it should get {key}={_g(ref[key])}. Give values that only one group needs in that group's "
                "dict, not as a keyword of `torch.optim.SGD(...)`.",
                ko=f"나중에 추가한 param group이 기본값에서 {key}={_g(data.get(key))}을(를) 받습니다. "
                f"{key}={_g(ref[key])}이어야 합니다. 한 group에만 필요한 값은 `torch.optim.SGD(...)`의 "
                "keyword가 아니라 그 group의 dict에 적으세요.",
            )


@check("updates", aspect="state")
def updates(obs):
    data, ref = obs["steps"], obs.reference("steps")
    _raised(data)
    try:
        expect_close(data["parameters"], ref["parameters"], what="the parameters", atol=1e-10, rtol=1e-9)
    except CheckFailed:
        fail(
            en="With the same gradients, two steps of your optimizer leave the parameters somewhere else than "
            "the reference's do: the learning rate, momentum or weight decay that reaches some parameters "
            "differs from what was asked (see `param_groups`).",
            ko="같은 gradient로 두 step을 진행했을 때 parameter가 reference와 다른 곳에 도착합니다. 일부 "
            "parameter에 적용되는 learning rate, momentum, weight decay가 요구한 것과 다릅니다 "
            "(`param_groups` 참고).",
        )


@check("scale_lr", aspect="parameters")
def scale_lr(obs):
    data, ref = obs["scale_lr"], obs.reference("scale_lr")
    rates = ", ".join(_g(r) for r in ref["rates"])
    call = f"scale_lr(optimizer, {_g(ref['factor'])})"
    _raised(data, call)
    got, want = data["after"], ref["after"]
    if len(got) != len(want) or not all(_close(g, w) for g, w in zip(got, want, strict=False)):
        fail(
            en=f"For three groups with lr {rates}, `{call}` left lr {', '.join(_g(g) for g in got)}; they should "
            f"be {', '.join(_g(w) for w in want)}. Multiply the lr of every group: "
            '`for group in optimizer.param_groups: group["lr"] *= factor`.',
            ko=f"lr가 {rates}인 group 세 개에 `{call}`를 부르자 lr가 {', '.join(_g(g) for g in got)}이(가) "
            f"되었습니다. {', '.join(_g(w) for w in want)}이어야 합니다. 모든 group의 lr를 곱하세요: "
            '`for group in optimizer.param_groups: group["lr"] *= factor`.',
        )


@check("printed", aspect="output", uses_output=True)
def printed(obs):
    # Printing alone passes nothing: the lines count once both functions work on fresh objects.
    try:
        for judged in (param_groups, momentum_default, updates, scale_lr):
            judged(obs)
    except CheckFailed:
        fail(
            en="The printed lines count once `make_optimizer` and `scale_lr` work on fresh objects: fix the "
            "checks above first.",
            ko="`make_optimizer`와 `scale_lr`가 새 객체에서 제대로 동작해야 출력도 인정됩니다. 위의 검사부터 "
            "고치세요.",
        )
    for line in LINES:
        expect_printed(obs, line)
