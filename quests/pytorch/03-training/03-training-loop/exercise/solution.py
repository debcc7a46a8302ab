import torch
from torch import nn
from torch.utils.data import TensorDataset, DataLoader


def train_one_epoch(model, loader, loss_fn, optimizer):
    """Train for one pass over loader and return the sample-weighted average loss."""
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        count += len(xb)
    return total / count


# Points in the plane; the label is 1 when x0 and x1 have the same sign.
# No straight line separates the classes, so the model needs a hidden layer.
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
