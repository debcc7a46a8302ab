import torch
from torch import nn


class Block(nn.Module):
    """pre-activation residual block: x + fc2(act2(fc1(act1(x))))."""

    def __init__(self, dim, hidden, activation=nn.ReLU, inplace=False):
        super().__init__()
        # TODO: self.act1 = 새 activation module (in-place는 절대 아님)
        #       self.fc1 = nn.Linear(dim, hidden)
        #       self.act2 = 새 activation module (inplace가 True면 in-place)
        #       self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        # TODO: x + fc2(act2(fc1(act1(x))))
        return x


torch.manual_seed(0)
x = torch.randn(4, 8)
for activation in (nn.ReLU, nn.GELU, nn.PReLU):
    block = Block(8, 32, activation)
    n = sum(p.numel() for p in block.parameters())
    print(f"{activation.__name__}: {tuple(block(x).shape)} {n} parameters")

# inplace=True여도 호출한 쪽의 x는 같은 tensor, 같은 값 그대로입니다.
before = x.clone()
Block(8, 32, nn.ReLU, inplace=True)(x)
print("x unchanged:", torch.equal(x, before))
