import torch


def true_class_scores(scores, labels):
    """scores (N, C), labels (N,) int64 -> (N,): 행 i마다 scores[i, labels[i]]."""
    # TODO: 행마다, 그 행의 label이 가리키는 점수 하나
    return scores


def rows_of_class(scores, labels, k):
    """label이 k인 scores의 행들: shape (그런 행의 수, C)."""
    # TODO: 행에 대한 boolean mask
    return scores


def count_confident(scores, labels, threshold):
    """정답 class의 점수가 threshold보다 큰 행의 수, Python int로."""
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
