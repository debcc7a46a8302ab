import torch
from torch import nn


def activation_stats(model, x):
    """model의 모든 nn.Linear와 nn.ReLU에 forward hook을 걸고 model(x)를 한 번 실행합니다.

    (output, stats)를 돌려줍니다: hook이 없을 때와 똑같은 model의 출력, 그리고 hook을 건 각
    module 출력의 {name: (mean, std)} (이름은 named_modules()의 것). 끝나면 hook은 하나도
    model에 남지 않습니다.
    """
    stats = {}
    # TODO: model.named_modules()의 모든 nn.Linear와 nn.ReLU에 forward hook을 등록하세요.
    #       hook은 module 출력의 (mean, std)를 Python float로 stats[name]에 저장합니다.
    # TODO: handle을 모아 두고, model을 한 번 실행한 뒤, 모든 hook을 제거하세요 (예외가 나도).
    output = model(x)
    return output, stats


torch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(6, 16), nn.ReLU(inplace=True), nn.Linear(16, 16), nn.ReLU(inplace=True), nn.Linear(16, 3)
)
output, stats = activation_stats(model, torch.randn(32, 6))

for name, (mean, std) in stats.items():
    print(f"{name}: mean {mean:+.3f} std {std:.3f}")
print("output:", tuple(output.shape), "grad_fn:", output.grad_fn is not None)
print("hooks left:", sum(len(m._forward_hooks) for m in model.modules()))
