import torch


def gradient_step(w, x, y, lr):
    """One step of gradient descent on loss = mean((w*x - y)**2) for a scalar w with requires_grad.

    Moves w in place, leaves w.grad cleared, and returns (loss, autograd gradient, by-hand gradient)
    as Python floats.
    """
    loss = ((w * x - y) ** 2).mean()
    loss.backward()
    grad = w.grad.item()  # the number, taken before w.grad is cleared below

    # By hand: d/dw mean((w*x - y)^2) = mean((w*x - y) * x); no graph needed.
    by_hand = ((w.detach() * x - y) * x).mean()

    # One step of gradient descent, done by hand.
    with torch.no_grad():
        w -= lr * w.grad
    w.grad.zero_()
    return loss.item(), grad, by_hand.item()


x = torch.tensor([1.0, 2.0, 3.0])
y = torch.tensor([2.0, 4.0, 6.0])
w = torch.tensor(0.5, requires_grad=True)

loss, grad, by_hand = gradient_step(w, x, y, lr=0.05)
print(f"loss: {loss:.4f}")
print(f"autograd: {grad:.4f}")
print(f"by hand: {by_hand:.4f}")
print(f"w after one step: {w.item():.4f}")
print(f"grad after zero_: {w.grad.item():.4f}")
