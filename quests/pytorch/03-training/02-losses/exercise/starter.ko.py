import torch
from torch import nn


def regression_loss(pred, target):
    """mean squared error. pred, target: float (N,)."""
    # TODO: 오차 제곱의 평균을 backward()할 수 있는 tensor로
    return torch.tensor(0.0)


def classification_loss(logits, target, class_weight):
    """class_weight로 가중하고 label smoothing 0.1을 쓴 cross-entropy.

    logits: 가공하지 않은 score (N, C); target: class index, int64 (N,); class_weight: float (C,).
    """
    # TODO: class weight와 label smoothing 0.1을 쓴 cross-entropy
    return torch.tensor(0.0)


def binary_loss(logits, target):
    """binary cross-entropy. logits: 가공하지 않은 score (N,); target: 0.0 또는 1.0, float (N,)."""
    # TODO: logits로부터 계산한 binary cross-entropy
    return torch.tensor(0.0)


torch.manual_seed(0)
# 1. regression: 8일 동안의 예측 기온과 실제 기온
temp_pred, temp_true = 5 * torch.randn(8), 5 * torch.randn(8)
# 2. 네 종, 대부분이 0번 종: 나머지 종은 다섯 배로 셉니다
species_logits = torch.randn(8, 4)
species = torch.tensor([0, 0, 0, 0, 0, 1, 2, 3])
species_weight = torch.tensor([0.2, 1.0, 1.0, 1.0])
# 3. 스팸인지 아닌지: 메일마다 logit 하나
spam_logits = torch.randn(8)
spam = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])

print(f"regression:     {float(regression_loss(temp_pred, temp_true)):.4f}")
print(f"classification: {float(classification_loss(species_logits, species, species_weight)):.4f}")
print(f"binary:         {float(binary_loss(spam_logits, spam)):.4f}")
