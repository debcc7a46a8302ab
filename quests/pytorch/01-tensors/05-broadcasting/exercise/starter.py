import torch


def pairwise_distances(a, b):
    """Euclidean distance between every row of a (N, D) and every row of b (M, D): (N, M)."""
    # TODO: give a and b a new axis each so that a[i] - b[j] is computed for every pair,
    #       then square, sum over D and take the square root. No loops, no torch.cdist.
    return torch.zeros(a.shape[0], b.shape[0])


def mse(pred, target):
    """Mean squared error of pred (N, 1), a model's output, against target (N,)."""
    # TODO: make the two shapes match before subtracting.
    return torch.tensor(0.0)


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
