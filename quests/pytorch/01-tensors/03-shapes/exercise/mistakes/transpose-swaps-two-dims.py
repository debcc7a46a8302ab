import torch


def to_nhwc(x):
    """(N, C, H, W) -> (N, H, W, C): the same pixels, channels last."""
    return x.transpose(1, 3)   # swaps C and W only: (N, W, H, C)


def to_nchw(x):
    """(N, H, W, C) -> (N, C, H, W): the same pixels, channels first."""
    return x.transpose(1, 3)   # swaps C and W only: (N, C, W, H)


def flatten_per_sample(x):
    """(N, ...) -> (N, everything else): one row per sample, for any layout."""
    # reshape copies when x is not contiguous (after a permute, say); view would refuse.
    return x.reshape(x.shape[0], -1)


batch = torch.arange(2 * 3 * 2 * 4).reshape(2, 3, 2, 4)   # N=2, C=3, H=2, W=4
nhwc = to_nhwc(batch)
print(nhwc.shape)
print(nhwc[0, 0, 0])                                       # the 3 channels of one pixel
print(torch.equal(to_nchw(nhwc), batch))
print(flatten_per_sample(nhwc).shape)
