"""Checks for save_checkpoint/load_checkpoint: one rewound BytesIO with epoch, model and optimizer state."""

import torch
from torch import nn

from questlab.grading.api import check, expect_printed, fail

KEYS = ("epoch", "model", "optimizer")


def func(sub, name, signature):
    value = sub.ns.get(name)
    if not callable(value):
        fail(en=f"Define `{signature}`.", ko=f"`{signature}`를 정의하세요.")
    return value


def trained(seed=0):
    """A small model and an Adam optimizer with state and a changed lr (not the learner's objects)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    for _ in range(2):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    optimizer.param_groups[0]["lr"] = 0.007
    return model, optimizer


def saved(sub, model, optimizer, epoch):
    buf = func(sub, "save_checkpoint", "save_checkpoint(model, optimizer, epoch)")(model, optimizer, epoch)
    if not hasattr(buf, "read") or not hasattr(buf, "seek"):
        fail(en=f"`save_checkpoint` returned {type(buf).__name__}; return the `io.BytesIO` you saved into.",
             ko=f"`save_checkpoint`가 {type(buf).__name__}을 돌려줬습니다. 저장한 `io.BytesIO`를 돌려주세요.")
    if hasattr(buf, "getvalue") and not buf.getvalue():
        fail(en="`save_checkpoint` returned an empty BytesIO. Write the checkpoint into it: "
                "`torch.save({\"epoch\": epoch, \"model\": model.state_dict(), "
                "\"optimizer\": optimizer.state_dict()}, buf)`, then `buf.seek(0)`.",
             ko="`save_checkpoint`가 빈 BytesIO를 돌려줬습니다. checkpoint를 써 넣으세요: "
                "`torch.save({\"epoch\": epoch, \"model\": model.state_dict(), "
                "\"optimizer\": optimizer.state_dict()}, buf)` 다음 `buf.seek(0)`.")
    if buf.tell() != 0:
        fail(en="The BytesIO that `save_checkpoint` returns is positioned at its end, so `torch.load` finds "
                "nothing to read. Rewind it with `buf.seek(0)` before `return buf`.",
             ko="`save_checkpoint`가 돌려준 BytesIO의 위치가 끝에 있어서 `torch.load`가 읽을 것이 없습니다. "
                "`return buf` 전에 `buf.seek(0)`으로 되감으세요.")
    return buf


@check("checkpoint_contents", aspect="state")
def checkpoint_contents(sub):
    model, optimizer = trained()
    buf = saved(sub, model, optimizer, 7)
    try:
        checkpoint = torch.load(buf)
    except Exception as e:
        fail(en=f"`torch.load` could not read the checkpoint ({type(e).__name__}). Save only state: "
                "`torch.save({\"epoch\": epoch, \"model\": model.state_dict(), "
                "\"optimizer\": optimizer.state_dict()}, buf)`.",
             ko=f"`torch.load`가 checkpoint를 읽지 못했습니다 ({type(e).__name__}). state만 저장하세요: "
                "`torch.save({\"epoch\": epoch, \"model\": model.state_dict(), "
                "\"optimizer\": optimizer.state_dict()}, buf)`.")
    if not isinstance(checkpoint, dict) or set(checkpoint) != set(KEYS):
        got = ", ".join(map(str, checkpoint)) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        fail(en=f"The checkpoint should be one dict with the keys epoch, model, optimizer; it is: {got}.",
             ko=f"checkpoint는 epoch, model, optimizer key를 가진 dict 하나여야 하는데 실제로는 {got}입니다.")
    if checkpoint["epoch"] != 7:
        fail(en=f"`save_checkpoint(model, optimizer, epoch=7)` saved epoch {checkpoint['epoch']!r}; save the "
                "`epoch` argument.",
             ko=f"`save_checkpoint(model, optimizer, epoch=7)`이 epoch을 {checkpoint['epoch']!r}로 "
                "저장했습니다. 인자로 받은 `epoch`을 저장하세요.")
    state = model.state_dict()
    entry = checkpoint["model"]
    if not isinstance(entry, dict) or set(entry) != set(state) or not all(
            torch.equal(entry[k], v) for k, v in state.items()):
        fail(en="`checkpoint[\"model\"]` is not the model's state: save `model.state_dict()`.",
             ko="`checkpoint[\"model\"]`이 model의 state가 아닙니다. `model.state_dict()`를 저장하세요.")
    entry = checkpoint["optimizer"]
    if not isinstance(entry, dict) or set(entry) != {"state", "param_groups"}:
        fail(en="`checkpoint[\"optimizer\"]` is not the optimizer's state: save `optimizer.state_dict()`.",
             ko="`checkpoint[\"optimizer\"]`이 optimizer의 state가 아닙니다. "
                "`optimizer.state_dict()`를 저장하세요.")


@check("round_trip", aspect="state")
def round_trip(sub):
    model, optimizer = trained()
    buf = saved(sub, model, optimizer, 7)
    try:
        torch.load(buf)
    except Exception:
        fail(en="`torch.load` cannot read what `save_checkpoint` wrote (see `checkpoint_contents` above); "
                "fix `save_checkpoint` first.",
             ko="`save_checkpoint`가 쓴 것을 `torch.load`가 읽지 못합니다 (위의 `checkpoint_contents` 참고). "
                "먼저 `save_checkpoint`를 고치세요.")
    buf.seek(0)
    new_model, new_optimizer = trained(seed=1)
    new_optimizer.param_groups[0]["lr"] = 0.02
    load = func(sub, "load_checkpoint", "load_checkpoint(buf, model, optimizer)")
    epoch = load(buf, new_model, new_optimizer)
    if epoch != 7:
        fail(en=f"`load_checkpoint` returned {epoch!r}; return the saved epoch, `checkpoint[\"epoch\"]`.",
             ko=f"`load_checkpoint`가 {epoch!r}을 돌려줬습니다. 저장된 epoch, 즉 `checkpoint[\"epoch\"]`를 "
                "돌려주세요.")
    new_state = new_model.state_dict()
    if not all(torch.equal(v, new_state[k]) for k, v in model.state_dict().items()):
        fail(en="After `load_checkpoint` the model's weights differ from the saved ones. Fill the model with "
                "`model.load_state_dict(checkpoint[\"model\"])`.",
             ko="`load_checkpoint` 뒤에도 model의 weight가 저장한 것과 다릅니다. "
                "`model.load_state_dict(checkpoint[\"model\"])`로 채우세요.")
    old, new = optimizer.state_dict(), new_optimizer.state_dict()
    same_state = old["state"].keys() == new["state"].keys() and all(
        torch.equal(torch.as_tensor(t), torch.as_tensor(new["state"][i].get(k, torch.tensor(float("nan")))))
        for i, entries in old["state"].items() for k, t in entries.items())
    if not same_state or new_optimizer.param_groups[0]["lr"] != 0.007:
        fail(en="After `load_checkpoint` the optimizer state (Adam's moments, the step count, the changed "
                "lr) differs from the saved one. Fill it with "
                "`optimizer.load_state_dict(checkpoint[\"optimizer\"])`.",
             ko="`load_checkpoint` 뒤에도 optimizer의 state(Adam의 moment, step 수, 바꾼 lr)가 저장한 것과 "
                "다릅니다. `optimizer.load_state_dict(checkpoint[\"optimizer\"])`로 채우세요.")


@check("printed", aspect="output", uses_output=True)
def printed(sub):
    for line in ("epoch: 3", "lr: 0.005", "all match: True"):
        expect_printed(sub, line)
