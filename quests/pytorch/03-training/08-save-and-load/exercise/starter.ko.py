import io

import torch
from torch import nn


def make():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    return model, optimizer


def save_checkpoint(model, optimizer, epoch):
    """epoch, model state, optimizer state를 BytesIO에 쓰고, 처음으로 되감아 바로 읽을 수 있게 합니다."""
    buf = io.BytesIO()
    # TODO: "epoch", "model", "optimizer" key를 가진 dict 하나를 buf에 저장하고,
    #       처음부터 읽을 수 있도록 buf를 되감으세요
    return buf


def load_checkpoint(buf, model, optimizer):
    """buf의 checkpoint로 model과 optimizer를 채우고 저장된 epoch을 돌려줍니다."""
    # TODO: buf에서 dict를 불러와(기본값 weights_only=True 그대로),
    #       model과 optimizer를 채우고 저장된 epoch을 돌려주세요.
    #       nn.DataParallel로 저장된 model key는 "module."로 시작하니 떼어 내세요
    return None


# optimizer에 저장할 만한 state가 생기도록 조금 학습합니다.
torch.manual_seed(0)
model, optimizer = make()
X = torch.randn(16, 4)
y = torch.randint(0, 2, (16,))
for epoch in range(1, 4):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    optimizer.step()
optimizer.param_groups[0]["lr"] = 0.005  # 도중에 learning rate를 낮췄습니다

buf = save_checkpoint(model, optimizer, epoch=3)

torch.manual_seed(1)  # 새로 만든 객체는 다른 weight에서 시작합니다
new_model, new_optimizer = make()
restored_epoch = load_checkpoint(buf, new_model, new_optimizer)

# 전부 비교합니다.
print("epoch:", restored_epoch)
all_match = restored_epoch == 3
new_weights = new_model.state_dict()
for name, tensor in model.state_dict().items():
    same = torch.equal(tensor, new_weights[name])
    all_match = all_match and same
    print(f"model {name}: {same}")

old_state = optimizer.state_dict()["state"]
new_state = new_optimizer.state_dict()["state"]
for index, entries in old_state.items():
    results = []
    for key, tensor in entries.items():
        same = key in new_state.get(index, {}) and torch.equal(tensor, new_state[index][key])
        all_match = all_match and same
        results.append(f"{key} {same}")
    print(f"optimizer state[{index}]: " + ", ".join(results))

lr = new_optimizer.param_groups[0]["lr"]
all_match = all_match and lr == 0.005
print("lr:", lr)
print("all match:", all_match)

# model을 nn.DataParallel로 감싸 학습한 run의 checkpoint입니다.
buf = save_checkpoint(nn.DataParallel(model), optimizer, epoch=3)
torch.manual_seed(2)
plain_model, plain_optimizer = make()
load_checkpoint(buf, plain_model, plain_optimizer)
weights = zip(model.state_dict().values(), plain_model.state_dict().values())
print("from DataParallel:", all(torch.equal(a, b) for a, b in weights))
