import torch


def gradient_step(w, x, y, lr):
    """requires_grad인 scalar w에 대해 loss = mean((w*x - y)**2)로 gradient descent 한 step.

    w를 in-place로 옮기고, w.grad를 비워 두고, (loss, autograd gradient, 손으로 구한 gradient)를
    Python float로 돌려줍니다.
    """
    loss = ((w * x - y) ** 2).mean()
    # TODO: w에 대한 loss의 gradient를 구하세요
    grad = 0.0  # TODO: autograd가 구한 gradient, float로
    by_hand = 0.0  # TODO: 같은 gradient를 손으로, mean(2 * (w*x - y) * x), graph를 기록하지 않고
    # TODO: learning rate lr로 gradient descent 한 step (in-place로, graph 없이!),
    #       그다음 step을 위해 w.grad를 비우세요
    return loss.item(), grad, by_hand


x = torch.tensor([1.0, 2.0, 3.0])
y = torch.tensor([2.0, 4.0, 6.0])
w = torch.tensor(0.5)  # TODO: autograd가 w를 추적해야 합니다

loss, grad, by_hand = gradient_step(w, x, y, lr=0.05)
print(f"loss: {loss:.4f}")
# TODO: "autograd: ...", "by hand: ...", "w after one step: ...",
#       "grad after zero_: ..."를 출력하세요
