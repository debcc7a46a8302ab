import torch

x = torch.tensor([1.0, 2.0, 3.0])
y = torch.tensor([2.0, 4.0, 6.0])
w = torch.tensor(0.5)  # TODO: autograd has to track w

loss = ((w * x - y) ** 2).mean()
# TODO: compute the gradient of loss with respect to w
print(f"loss: {loss.item():.4f}")

# TODO: print the gradient autograd found, as "autograd: ..."
# TODO: compute the same gradient by hand and print it as "by hand: ..."
# TODO: take one gradient-descent step with learning rate 0.05 (no graph!),
#       clear the gradient, and print "w after one step: ..." and
#       "grad after zero_: ..."
