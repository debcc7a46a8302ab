import torch


def gradient_step(w, x, y, lr):
    """One step of gradient descent on loss = mean((w*x - y)**2) for a scalar w with requires_grad.

    Moves w in place, leaves w.grad cleared, and returns (loss, autograd gradient, by-hand gradient)
    as Python floats.
    """
    loss = ((w * x - y) ** 2).mean()
    # TODO: compute the gradient of loss with respect to w
    grad = 0.0  # TODO: the gradient autograd found, as a float
    by_hand = 0.0  # TODO: the same gradient by hand, mean(2 * (w*x - y) * x), without recording a graph
    # TODO: take one gradient-descent step with learning rate lr (in place, no graph!),
    #       then clear w.grad for the next step
    return loss.item(), grad, by_hand


x = torch.tensor([1.0, 2.0, 3.0])
y = torch.tensor([2.0, 4.0, 6.0])
w = torch.tensor(0.5)  # TODO: autograd has to track w

loss, grad, by_hand = gradient_step(w, x, y, lr=0.05)
print(f"loss: {loss:.4f}")
# TODO: print "autograd: ...", "by hand: ...", "w after one step: ..." and
#       "grad after zero_: ..."
