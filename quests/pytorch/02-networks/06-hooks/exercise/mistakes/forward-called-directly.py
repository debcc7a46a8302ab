import torch
from torch import nn


def activation_stats(model, x):
    """Run model(x) once with forward hooks on every nn.Linear and nn.ReLU of model.

    Returns (output, stats): the model's output, exactly as without the hooks, and
    {name: (mean, std)} of each hooked module's output, the names from named_modules().
    None of the hooks stays on the model afterwards.
    """
    stats = {}

    def make_hook(name):  # each hook keeps its own name
        def hook(module, args, output):
            out = output.detach()
            stats[name] = (out.mean().item(), out.std().item())  # numbers now, not the tensor

        return hook

    handles = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.ReLU)):
            handles.append(module.register_forward_hook(make_hook(name)))
    try:
        output = model.forward(x)
    finally:  # removed even when the forward pass raises
        for handle in handles:
            handle.remove()
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
