import torch
from torch import nn


class FeatureScaler(nn.Module):
    """Standardise each feature with fixed statistics, then apply a learned gain and shift."""

    def __init__(self, num_features):
        super().__init__()
        ones = torch.ones(num_features)
        zeros = torch.zeros(num_features)
        # learned
        self.gain = nn.Parameter(ones)
        self.shift = nn.Parameter(zeros)
        # state that is not learned but must be saved
        self.register_buffer("mean", zeros)
        self.register_buffer("std", ones)
        # a constant that must follow the device but need not be saved
        self.register_buffer("eps", torch.tensor(1e-5), persistent=False)

    def forward(self, x):
        return (x - self.mean) / (self.std + self.eps) * self.gain + self.shift


def count_trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


scaler = FeatureScaler(4)
print("parameters:", [name for name, _ in scaler.named_parameters()])
print("buffers:", [name for name, _ in scaler.named_buffers()])
print("state_dict:", list(scaler.state_dict().keys()))
print("trainable:", count_trainable(scaler))

scaler.shift.requires_grad_(False)
print("trainable after freezing shift:", count_trainable(scaler))
