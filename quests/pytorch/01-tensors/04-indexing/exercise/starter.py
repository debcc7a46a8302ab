import torch


def true_class_scores(scores, labels):
    """scores (N, C), labels (N,) int64 -> (N,): scores[i, labels[i]] for every row i."""
    # TODO: one score per row, picked by that row's label
    return scores


def rows_of_class(scores, labels, k):
    """The rows of scores whose label is k: shape (number of such rows, C)."""
    # TODO: a boolean mask over the rows
    return scores


def count_confident(scores, labels, threshold):
    """How many rows score their true class above threshold, as a Python int."""
    # TODO
    return 0


scores = torch.tensor([[2.0, -1.0, 0.5],
                       [0.1, 0.3, -2.0],
                       [-0.5, 1.5, 0.0],
                       [1.0, 0.2, 3.0]])
labels = torch.tensor([0, 2, 1, 0])
print(true_class_scores(scores, labels))
print(rows_of_class(scores, labels, 0))
print(count_confident(scores, labels, 0.0))
