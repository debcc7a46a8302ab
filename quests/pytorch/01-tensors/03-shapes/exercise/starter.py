import torch


def to_nhwc(x):
    """(N, C, H, W) -> (N, H, W, C): the same pixels, channels last."""
    # TODO
    return x


def to_nchw(x):
    """(N, H, W, C) -> (N, C, H, W): the same pixels, channels first."""
    # TODO
    return x


def flatten_per_sample(x):
    """(N, ...) -> (N, everything else): one row per sample, for any layout."""
    # TODO
    return x


batch = torch.arange(2 * 3 * 2 * 4).reshape(2, 3, 2, 4)   # N=2, C=3, H=2, W=4
nhwc = to_nhwc(batch)
print(nhwc.shape)                                          # expected: torch.Size([2, 2, 4, 3])
print(nhwc[0, 0, 0])                                       # expected: tensor([ 0,  8, 16])
print(torch.equal(to_nchw(nhwc), batch))                   # expected: True
print(flatten_per_sample(nhwc).shape)                      # expected: torch.Size([2, 24])
