"""Still-image loading and saving (PIL), as uint8 arrays or float tensors."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from vidstyle.errors import InputError, OutputError
from vidstyle.utils.files import atomic_output, check_output_path

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
# What the image APIs accept: a file path, a PIL image or an array (see as_uint8_image).
ImageInput = Union[str, os.PathLike, Image.Image, np.ndarray]


def load_image(path: str | os.PathLike, long_side: int | None = None) -> np.ndarray:
    """Read an image file as an (H, W, 3) uint8 RGB array, EXIF rotation applied.

    ``long_side`` rescales so that max(H, W) == long_side (Lanczos).
    Raises InputError for a missing file or one that is not an image.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {p}")
    if p.is_dir():
        raise InputError(f"expected an image file, got a folder: {p}")
    try:
        with Image.open(p) as im:
            im = ImageOps.exif_transpose(im)
            im = im.convert("RGB")
            if long_side is not None:
                im = resize_long_side(im, long_side)
            return np.asarray(im, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"not a readable image: {p} ({exc.__class__.__name__})") from exc


def as_uint8_image(image: ImageInput, what: str = "image") -> np.ndarray:
    """Any accepted image input -> (H, W, 3) uint8 RGB array.

    Arrays may be (H, W), (H, W, 3) or (H, W, 4), uint8 in [0, 255] or float in [0, 1].
    """
    if isinstance(image, (str, os.PathLike)):
        return load_image(image)
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, axis=2)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4) or min(arr.shape[:2]) < 1:
            raise InputError(f"{what} array must be (H, W), (H, W, 3) or (H, W, 4); got shape {image.shape}")
        arr = arr[..., :3]
        if arr.dtype != np.uint8:
            arr = (np.clip(arr.astype(np.float32), 0.0, 1.0) * 255.0).round().astype(np.uint8)
        return np.ascontiguousarray(arr)
    raise InputError(f"{what} must be a file path, a PIL image or a numpy array, not {type(image).__name__}")


def resize_long_side(im: Image.Image, long_side: int) -> Image.Image:
    """Resize a PIL image so its longer side is ``long_side`` pixels."""
    if long_side <= 0:
        raise InputError(f"size must be a positive number of pixels, got {long_side}")
    w, h = im.size
    scale = long_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return im.resize(size, Image.LANCZOS) if size != (w, h) else im


def resize_array(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an (H, W, 3) uint8 array to (height, width, 3)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.LANCZOS))


def to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float32 in [0, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    return t.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) float in [0, 1] -> (H, W, 3) uint8 (clamped, rounded)."""
    if tensor.dim() == 4:
        tensor = tensor[0]
    t = tensor.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return t.permute(1, 2, 0).contiguous().cpu().numpy()


def save_image(image: np.ndarray, path: str | os.PathLike, quality: int = 95) -> Path:
    """Write an (H, W, 3) uint8 array atomically; the format follows the extension."""
    out = check_output_path(path)
    ext = out.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise OutputError(f"unsupported image format {ext!r} for {out}; use one of {sorted(IMAGE_EXTENSIONS)}")
    fmt = Image.registered_extensions().get(ext)
    with atomic_output(out) as tmp:
        kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
        Image.fromarray(image).save(tmp, format=fmt, **kwargs)
    return out
def blend(original: np.ndarray, stylized: np.ndarray, strength: float) -> np.ndarray:
    """``strength`` × stylized + (1 − strength) × original: two (H, W, 3) uint8 images -> uint8, rounded.

    strength 1.0 returns ``stylized`` and 0.0 ``original`` (the arrays themselves, not copies).
    The inference graph does the same blend inside the network (``vidstyle.runtime.graph.Uint8Graph``).
    """
    if strength >= 1.0:
        return stylized
    if strength <= 0.0:
        return original
    import cv2  # imported on use: OpenCV is not needed to read and write images

    return cv2.addWeighted(stylized, float(strength), original, 1.0 - float(strength), 0.0)


