import torch
from torch import nn


class Block(nn.Module):
    """Pre-activation residual block: x + fc2(act2(fc1(act1(x))))."""

    def __init__(self, dim, hidden, activation=nn.ReLU, inplace=False):
        super().__init__()
        # activation is a class (a factory): call it once for each place, so that each
        # place gets a module of its own (a PReLU has its own learnable slope).
        self.act1 = activation
        self.fc1 = nn.Linear(dim, hidden)
        # works on fc1's fresh output, which nobody else needs: may be overwritten
        self.act2 = activation(inplace=True) if inplace else activation()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return x + self.fc2(self.act2(self.fc1(self.act1(x))))


torch.manual_seed(0)
x = torch.randn(4, 8)
for activation in (nn.ReLU, nn.GELU, nn.PReLU):
    block = Block(8, 32, activation)
    n = sum(p.numel() for p in block.parameters())
    print(f"{activation.__name__}: {tuple(block(x).shape)} {n} parameters")

# The caller's x is still the same tensor with the same values, even with inplace=True.
before = x.clone()
Block(8, 32, nn.ReLU, inplace=True)(x)
print("x unchanged:", torch.equal(x, before))
