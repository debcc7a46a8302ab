import torch


def pairwise_distances(a, b):
    """Euclidean distance between every row of a (N, D) and every row of b (M, D): (N, M)."""
    diff = a[:, None, :] - b[None, :, :]      # (N, 1, D) - (1, M, D) -> (N, M, D)
    return diff.pow(2).sum(dim=-1).sqrt()     # sum over D -> (N, M)


def mse(pred, target):
    """Mean squared error of pred (N, 1), a model's output, against target (N,)."""
    return (pred - target).pow(2).mean()      # (N, 1) - (N,) -> (N, N): every pair


torch.manual_seed(0)
a = torch.randn(4, 2)
b = torch.randn(3, 2)
dist = pairwise_distances(a, b)
expected = torch.cdist(a, b)
print(dist.shape, expected.shape)
print(dist.shape == expected.shape and torch.allclose(dist, expected, atol=1e-6))

pred = torch.tensor([[1.0], [2.0], [3.0]])
target = torch.tensor([1.0, 2.0, 3.0])
print(mse(pred, target))
