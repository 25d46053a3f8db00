"""Still-image loading and saving (PIL), as uint8 arrays or float tensors."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from vidstyle.errors import InputError, OutputError
from vidstyle.utils import validate
from vidstyle.utils.files import atomic_output, check_output_path

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
# What the image APIs accept: a file path, a PIL image or an array (see as_uint8_image).
ImageInput = Union[str, os.PathLike, Image.Image, np.ndarray]


# Bytes per pixel PIL holds while decoding an image and converting it to an RGB array (the decoded
# image, up to 4 bytes a pixel, its RGB conversion, 4, and the arrays made from it, 3 + 3), with margin.
DECODE_BYTES_PER_PIXEL = 16


def _open_image(p: Path) -> Image.Image:
    """PIL's lazy open (reads the header only); a header claiming a huge size is refused here."""
    if not p.exists():
        raise InputError(f"file not found: {p}")
    if p.is_dir():
        raise InputError(f"expected an image file, got a folder: {p}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the memory check below decides
            return Image.open(p)
    except Image.DecompressionBombError:
        raise InputError(f"refusing to decode {p}: its header claims more than {2 * Image.MAX_IMAGE_PIXELS} "
                         "pixels (a decompression bomb, or an image far too large)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"not a readable image: {p} ({exc.__class__.__name__})") from exc


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image file as stored, from its header alone (nothing is decoded)."""
    p = Path(path)
    with _open_image(p) as im:
        return im.size


def _rgb_array(im: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB of any PIL image; 16- and 32-bit grayscale are scaled down, not clipped to white."""
    if im.mode.startswith("I;16") or im.mode == "I":
        wide = np.asarray(im).astype(np.float32)
        gray = np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8)  # 65535 -> 255
        return np.repeat(gray[..., None], 3, axis=2)
    if im.mode == "F":
        values = np.asarray(im, dtype=np.float32)
        scale = 255.0 if np.nanmax(values, initial=0.0) <= 1.0 else 1.0  # [0, 1] floats, else 8-bit values
        gray = np.clip(np.nan_to_num(values) * scale, 0, 255).round().astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    return np.array(im.convert("RGB"), dtype=np.uint8)  # a writable copy (torch.from_numpy wants one)


def load_image(path: str | os.PathLike, long_side: int | None = None) -> np.ndarray:
    """Read an image file as an (H, W, 3) uint8 RGB array, EXIF rotation applied.

    ``long_side`` rescales so that max(H, W) == long_side (Lanczos; a JPEG is decoded at the nearest
    larger power-of-two reduction first). 16-bit images keep their tones. The decoding memory is
    estimated from the header first: a huge image (or a decompression bomb) is refused, naming the limit.
    Raises InputError for a missing file or one that is not an image.
    """
    p = Path(path)
    with _open_image(p) as im:
        try:
            width, height = im.size
            if long_side is not None:
                validate.side("long side", long_side)
                scale = long_side / max(width, height)
                im.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
            validate.check_memory(im.size[0] * im.size[1] * DECODE_BYTES_PER_PIXEL,
                                  f"decoding {p.name} ({width}x{height})", "use a smaller image")
            im = ImageOps.exif_transpose(im)
            if long_side is not None and im.mode not in ("I", "F") and not im.mode.startswith("I;16"):
                im = resize_long_side(im.convert("RGB"), long_side)
                return np.array(im, dtype=np.uint8)
            image = _rgb_array(im)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise InputError(f"not a readable image: {p} ({exc.__class__.__name__})") from exc
    if long_side is not None:
        image = np.array(resize_long_side(Image.fromarray(image), long_side), dtype=np.uint8)
    return image


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


def save_image(image: np.ndarray, path: str | os.PathLike, quality: int = 95, overwrite: bool = True,
               inputs: tuple = ()) -> Path:
    """Write an (H, W, 3) uint8 array atomically; the format follows the extension.

    A low-level writer: it replaces an existing file unless ``overwrite`` is False (commands check their
    outputs with ``check_output_path`` before any work), and never writes over one of ``inputs``.
    """
    out = check_output_path(path, inputs=inputs, overwrite=overwrite)
    ext = out.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise OutputError(f"unsupported image format {ext!r} for {out}; use one of {sorted(IMAGE_EXTENSIONS)}")
    fmt = Image.registered_extensions().get(ext)
    with atomic_output(out) as tmp:
        kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
        Image.fromarray(image).save(tmp, format=fmt, **kwargs)
    return out
