import torch
from torch import nn


def predict(model, x):
    """model's output for x as at inference time, and the model left in the mode it was in.

    Deterministic (Dropout off, BatchNorm on its running statistics), no autograd graph,
    BatchNorm's running statistics untouched.
    """
    model.eval()  # every submodule: Dropout off, BatchNorm on running stats
    try:
        with torch.inference_mode():  # no graph is recorded
            return model(x)
    finally:
        model.train()


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
with torch.no_grad():  # a few training-mode batches, so the running statistics are not the defaults
    for _ in range(5):
        model(torch.randn(32, 4))

x = torch.randn(4, 4)
running_mean = model[1].running_mean.clone()
first, second = predict(model, x), predict(model, x)
print("same twice:", torch.equal(first, second))
print("running stats unchanged:", torch.equal(running_mean, model[1].running_mean))
print("grad_fn:", first.grad_fn)
print("still training:", model.training, model[3].training)
model.eval()
predict(model, x)
print("still eval:", model.training, model[3].training)
