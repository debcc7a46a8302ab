import torch


def blend(a, b):
    """같은 shape인 uint8 이미지 두 장의 픽셀별 평균, float32로 (3과 4 -> 3.5)."""
    return (a + b) / 2


def to_unit(img):
    """uint8 이미지(0..255)를 [0, 1]로 scale한 float32."""
    out = torch.zeros_like(img)
    out[:] = img / 255
    return out


a = torch.tensor([[200, 3]], dtype=torch.uint8)
b = torch.tensor([[100, 4]], dtype=torch.uint8)
print(blend(a, b))
print(to_unit(a))
