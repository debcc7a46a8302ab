import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split


def evaluate(model, batches, loss_fn):
    """Mean loss per sample and accuracy over batches of (inputs, class indices), as Python floats.

    Runs in eval mode without recording a graph, and leaves the model in the mode it was in.
    """
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for xb, yb in batches:
        logits = model(xb)
        total_loss += loss_fn(logits, yb).item() * len(xb)  # the batch mean, weighted by its size
        correct += (logits.argmax(dim=1) == yb).sum().item()
        count += len(xb)
    model.train(was_training)
    return total_loss / count, correct / count


# Three classes of points in the plane; 300 samples, 240 to train on and 60 to validate.
torch.manual_seed(0)
centres = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
y = torch.randint(0, 3, (300,))
X = centres[y] + 1.2 * torch.randn(300, 2)
train_set, val_set = random_split(TensorDataset(X, y), [240, 60], generator=torch.Generator().manual_seed(1))
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=32)  # batches of 32 and 28

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

# evaluate must leave the model as it found it (its mode, BatchNorm's running statistics)
# and record no graph; a forward hook sees whether each output requires grad.
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
