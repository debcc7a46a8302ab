import torch


def softmax(logits):
    """Probabilities over the last dim of logits (..., C); each row adds up to 1."""
    shifted = logits - logits.max(dim=-1, keepdim=True).values   # the largest becomes 0
    e = shifted.exp()
    return e / e.sum(dim=-1, keepdim=True)


def log_softmax(logits):
    """log(softmax(logits)) over the last dim, computed without overflow or log(0)."""
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


logits = torch.tensor([[1.0, 2.0, 3.0],
                       [1000.0, 1000.0, 0.0]])
print(softmax(logits))
print(log_softmax(logits))
print(torch.allclose(softmax(logits), torch.softmax(logits, dim=-1)),
      torch.allclose(log_softmax(logits), torch.log_softmax(logits, dim=-1)))
