import torch


def softmax(logits):
    """logits (..., C)의 마지막 축을 따라 계산한 확률. 각 행의 합은 1."""
    # TODO: 각 행의 가장 큰 logit을 빼고(keepdim=True), exp를 취한 뒤,
    #       마지막 축의 합으로 나누세요.
    return torch.zeros_like(logits)


def log_softmax(logits):
    """마지막 축을 따라 계산한 log(softmax(logits)). overflow도 log(0)도 없이 계산합니다."""
    # TODO: 같은 shift 후 shifted - log(sum(exp(shifted))). log(softmax(...))를 쓰지 마세요.
    return torch.zeros_like(logits)


logits = torch.tensor([[1.0, 2.0, 3.0],
                       [1000.0, 1000.0, 0.0]])
print(softmax(logits))
print(log_softmax(logits))
print(torch.allclose(softmax(logits), torch.softmax(logits, dim=-1)),
      torch.allclose(log_softmax(logits), torch.log_softmax(logits, dim=-1)))
