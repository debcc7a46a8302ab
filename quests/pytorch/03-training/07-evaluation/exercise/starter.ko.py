import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split


def evaluate(model, batches, loss_fn):
    """(입력, class index) batch들에 대한 sample당 평균 loss와 accuracy를 Python float로.

    eval mode에서 graph를 기록하지 않고 실행하며, model은 원래 mode로 되돌려 둡니다.
    """
    # TODO: model의 mode를 기억해 두고 eval mode로 바꾸세요
    total_loss, correct, count = 0.0, 0, 0
    # TODO: loop 전체에서 graph 기록을 끄세요
    for xb, yb in batches:
        logits = model(xb)
        # TODO: 이 batch의 loss를 total_loss에 더하세요: batch 크기로 가중한 Python float
        correct += (logits.argmax(dim=1) == yb).sum().item()
        count += len(xb)
    # TODO: model을 원래 mode로 되돌리세요
    return total_loss / count, correct / count


# 평면 위 점의 세 class. sample 300개 중 240개로 학습하고 60개로 검증합니다.
torch.manual_seed(0)
centres = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
y = torch.randint(0, 3, (300,))
X = centres[y] + 1.2 * torch.randn(300, 2)
train_set, val_set = random_split(TensorDataset(X, y), [240, 60], generator=torch.Generator().manual_seed(1))
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=32)  # 32개와 28개짜리 batch

model = nn.Sequential(nn.Linear(2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

for epoch in range(1, 6):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()
    val_loss, val_acc = evaluate(model, val_loader, loss_fn)
    print(f"epoch {epoch}: val loss {val_loss:.4f}, accuracy {val_acc:.3f}")

# evaluate는 model을 받은 그대로 남겨야 합니다 (mode, BatchNorm의 running statistics)
# graph도 기록하지 않아야 합니다. forward hook으로 각 출력이 requires grad인지 봅니다.
model.train()
running_mean = model[1].running_mean.clone()
graphs = []
hook = model.register_forward_hook(lambda module, args, output: graphs.append(output.requires_grad))
result = evaluate(model, val_loader, loss_fn)
hook.remove()
print("mode after evaluate:", "train" if model.training else "eval")
print("running_mean unchanged:", torch.equal(running_mean, model[1].running_mean))
print("graph recorded:", any(graphs))
print("returns floats:", all(type(value) is float for value in result))
