import torch
from torch import nn


class FeatureScaler(nn.Module):
    """Standardise each feature with fixed statistics, then apply a learned gain and shift."""

    def __init__(self, num_features):
        super().__init__()
        # TODO: none of these tensors is registered yet. Decide for each one
        #       whether it is a parameter, a persistent buffer or a
        #       non-persistent buffer, and register it that way.
        self.gain = torch.ones(num_features)
        self.shift = torch.zeros(num_features)
        self.mean = torch.zeros(num_features)
        self.std = torch.ones(num_features)
        self.eps = torch.tensor(1e-5)

    def forward(self, x):
        return (x - self.mean) / (self.std + self.eps) * self.gain + self.shift


def count_trainable(module):
    # TODO: count only the parameters that require a gradient
    return 0


scaler = FeatureScaler(4)
print("parameters:", [name for name, _ in scaler.named_parameters()])
print("buffers:", [name for name, _ in scaler.named_buffers()])
print("state_dict:", list(scaler.state_dict().keys()))
print("trainable:", count_trainable(scaler))

# TODO: freeze shift, then print the trainable count again:
# print("trainable after freezing shift:", count_trainable(scaler))
