import torch


def blend(a, b):
    """Pixel-wise average of two uint8 images of the same shape, as float32 (3 and 4 -> 3.5)."""
    # uint8 wraps around above 255, so widen before adding.
    return (a.float() + b.float()) / 2


def to_unit(img):
    """A uint8 image (0..255) scaled into [0, 1], as float32."""
    out = torch.zeros_like(img)   # inherits uint8
    out[:] = img / 255            # the fractions are cut off on assignment
    return out


a = torch.tensor([[200, 3]], dtype=torch.uint8)
b = torch.tensor([[100, 4]], dtype=torch.uint8)
print(blend(a, b))
print(to_unit(a))
