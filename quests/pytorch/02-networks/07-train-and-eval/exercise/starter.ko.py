import torch
from torch import nn


def predict(model, x):
    """inference 때처럼 계산한 x에 대한 model의 출력. model은 원래 mode로 되돌려 둡니다.

    결정적이고(Dropout 꺼짐, BatchNorm은 running statistics 사용), autograd graph가 없고,
    BatchNorm의 running statistics는 건드리지 않습니다.
    """
    # TODO: model의 현재 mode를 기억해 두고, eval mode로 바꾸고, graph를 기록하지 않고
    #       출력을 계산한 뒤, model을 원래 mode로 되돌리세요
    return model(x)


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
with torch.no_grad():  # training mode로 batch 몇 개를 흘려서 running statistics가 기본값이 아니게 합니다
    for _ in range(5):
        model(torch.randn(32, 4))

x = torch.randn(4, 4)
running_mean = model[1].running_mean.clone()
first, second = predict(model, x), predict(model, x)
print("same twice:", torch.equal(first, second))
print("running stats unchanged:", torch.equal(running_mean, model[1].running_mean))
print("grad_fn:", first.grad_fn)
print("still training:", model.training, model[3].training)
model.eval()
predict(model, x)
print("still eval:", model.training, model[3].training)
