import torch
from torch import nn


def regression_loss(pred, target):
    """Mean squared error. pred, target: float (N,)."""
    return nn.MSELoss()(pred, target)


def classification_loss(logits, target, class_weight):
    """Cross-entropy weighted by class_weight, with label smoothing 0.1.

    logits: raw scores (N, C); target: class indices, int64 (N,); class_weight: float (C,).
    """
    return nn.CrossEntropyLoss(weight=class_weight, label_smoothing=0.1)(logits, target)


def binary_loss(logits, target):
    """Binary cross-entropy. logits: raw scores (N,); target: 0.0 or 1.0, float (N,)."""
    return nn.BCEWithLogitsLoss()(logits, target)


torch.manual_seed(0)
# 1. regression: predicted and true temperatures of 8 days
temp_pred, temp_true = 5 * torch.randn(8), 5 * torch.randn(8)
# 2. four species, most samples of species 0: the other species count five times as much
species_logits = torch.randn(8, 4)
species = torch.tensor([0, 0, 0, 0, 0, 1, 2, 3])
species_weight = torch.tensor([0.2, 1.0, 1.0, 1.0])
# 3. spam or not: one logit per mail
spam_logits = torch.randn(8)
spam = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])

print(f"regression:     {float(regression_loss(temp_pred, temp_true)):.4f}")
print(f"classification: {float(classification_loss(species_logits, species, species_weight)):.4f}")
print(f"binary:         {float(binary_loss(spam_logits, spam)):.4f}")
