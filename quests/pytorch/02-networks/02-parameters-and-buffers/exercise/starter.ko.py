import torch
from torch import nn


class FeatureScaler(nn.Module):
    """고정된 통계로 feature마다 표준화한 뒤, 학습되는 gain과 shift를 적용합니다."""

    def __init__(self, num_features):
        super().__init__()
        # TODO: 이 tensor들은 아직 하나도 등록되지 않았습니다. 각각이
        #       parameter인지, persistent buffer인지,
        #       non-persistent buffer인지 정하고 그렇게 등록하세요.
        self.gain = torch.ones(num_features)
        self.shift = torch.zeros(num_features)
        self.mean = torch.zeros(num_features)
        self.std = torch.ones(num_features)
        self.eps = torch.tensor(1e-5)

    def forward(self, x):
        return (x - self.mean) / (self.std + self.eps) * self.gain + self.shift


def count_trainable(module):
    # TODO: gradient가 필요한 parameter만 세세요
    return 0


scaler = FeatureScaler(4)
print("parameters:", [name for name, _ in scaler.named_parameters()])
print("buffers:", [name for name, _ in scaler.named_buffers()])
print("state_dict:", list(scaler.state_dict().keys()))
print("trainable:", count_trainable(scaler))

# TODO: shift를 freeze한 뒤 trainable 수를 다시 출력하세요:
# print("trainable after freezing shift:", count_trainable(scaler))
