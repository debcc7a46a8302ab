import torch


def to_nhwc(x):
    """(N, C, H, W) -> (N, H, W, C): 픽셀은 그대로, 채널 축을 마지막으로."""
    # TODO
    return x


def to_nchw(x):
    """(N, H, W, C) -> (N, C, H, W): 픽셀은 그대로, 채널 축을 앞으로."""
    # TODO
    return x


def flatten_per_sample(x):
    """(N, ...) -> (N, 나머지 원소 수): 어떤 layout이든 sample 하나가 한 행."""
    # TODO
    return x


batch = torch.arange(2 * 3 * 2 * 4).reshape(2, 3, 2, 4)   # N=2, C=3, H=2, W=4
nhwc = to_nhwc(batch)
print(nhwc.shape)                                          # 기대값: torch.Size([2, 2, 4, 3])
print(nhwc[0, 0, 0])                                       # 기대값: tensor([ 0,  8, 16])
print(torch.equal(to_nchw(nhwc), batch))                   # 기대값: True
print(flatten_per_sample(nhwc).shape)                      # 기대값: torch.Size([2, 24])
