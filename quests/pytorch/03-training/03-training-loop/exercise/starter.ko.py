import torch
from torch import nn
from torch.utils.data import TensorDataset, DataLoader


def train_one_epoch(model, loader, loss_fn, optimizer):
    """loader를 한 바퀴 돌며 학습하고, sample 수로 가중 평균한 loss를 돌려줍니다."""
    # TODO: model을 training mode로
    total, count = 0.0, 0
    for xb, yb in loader:
        # TODO: forward pass 전에 지난 gradient를 비우세요
        loss = loss_fn(model(xb), yb)
        # TODO: backpropagation 후 parameter를 갱신하세요
        total += loss.item() * len(xb)
        count += len(xb)
    return total / count


# 평면 위의 점들. x0와 x1의 부호가 같으면 label이 1입니다.
# 직선 하나로는 class를 나눌 수 없어서 model에 hidden layer가 필요합니다.
torch.manual_seed(0)
X = torch.randn(200, 2)
y = (X[:, 0] * X[:, 1] > 0).long()
loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True)

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

for epoch in range(1, 11):
    loss = train_one_epoch(model, loader, loss_fn, optimizer)
    print(f"epoch {epoch:2d}: {loss:.4f}")

print("below 0.2:", loss < 0.2)

model.eval()
with torch.no_grad():
    accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
print(f"accuracy: {accuracy:.2f}")
