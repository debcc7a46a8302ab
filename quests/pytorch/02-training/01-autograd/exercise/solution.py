import torch

x = torch.tensor([1.0, 2.0, 3.0])
y = torch.tensor([2.0, 4.0, 6.0])
w = torch.tensor(0.5, requires_grad=True)

loss = ((w * x - y) ** 2).mean()
loss.backward()
print(f"loss: {loss.item():.4f}")
print(f"autograd: {w.grad.item():.4f}")

# By hand: d/dw mean((w*x - y)^2) = mean(2 * (w*x - y) * x)
by_hand = (2 * (w.detach() * x - y) * x).mean()
print(f"by hand: {by_hand.item():.4f}")

# One step of gradient descent, done by hand.
with torch.no_grad():
    w -= 0.05 * w.grad
w.grad.zero_()
print(f"w after one step: {w.item():.4f}")
print(f"grad after zero_: {w.grad.item():.4f}")
