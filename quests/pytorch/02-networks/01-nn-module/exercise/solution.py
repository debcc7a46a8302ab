import torch
from torch import nn


class MLP(nn.Module):
    """784 -> 256 -> 128 -> 10, with ReLU between the layers."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)
        self.act = nn.ReLU()  # no parameters, so one instance can be reused

    def forward(self, x):
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)  # raw scores (logits): no ReLU after the last layer


model = MLP()

for name, p in model.named_parameters():
    print(name, tuple(p.shape))

total = sum(p.numel() for p in model.parameters())
print("total:", total)

# Checked by hand: each nn.Linear(in, out) holds in*out weights and out biases.
by_hand = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
assert total == by_hand == 235_146

# The network really runs: a batch of 32 flattened 28x28 images -> 10 scores each.
assert model(torch.randn(32, 784)).shape == (32, 10)
