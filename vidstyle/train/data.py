"""Training photos: a recursive folder of jpg/png/webp, served as random crops with random flips."""
from __future__ import annotations

import os
import random
import warnings
from pathlib import Path
from typing import Callable, Collection, Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F

from vidstyle.errors import InputError
from vidstyle.utils.files import atomic_output
from vidstyle.utils.image import load_image

PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}
# Distillation: fixed crops per photo whose teacher outputs are kept (291 photos × 4 views at 256 px ≈ 460 MB
# of uint8 pairs); the teacher then runs about once per view and the rest of the run costs only the student.
DISTILL_VIEWS = 4


def find_files(folder: str | os.PathLike, extensions: Collection[str], what: str) -> list[Path]:
    """Files under ``folder`` whose extension (lower case, with the dot) is one of ``extensions``, recursive and
    sorted for reproducibility; InputError naming ``what`` (e.g. "training data") if the folder is missing."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{what} folder not found: {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in extensions)


def find_photos(folder: str | os.PathLike) -> list[Path]:
    """All photo files under ``folder`` (recursive, sorted for reproducibility)."""
    return find_files(folder, PHOTO_EXTENSIONS, "training data")


VIDEO_EXTENSIONS = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v"}
# Frames taken from a video given as training data: spread over the whole clip.
VIDEO_TRAINING_FRAMES = 120


def _training_images(source: str | os.PathLike) -> Iterator[np.ndarray]:
    """(H, W, 3) uint8 RGB training images from a folder of photos (unreadable files skipped with a warning)
    or from a video file (VIDEO_TRAINING_FRAMES frames spread over the clip)."""
    path = Path(source)
    if path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS:
        from vidstyle.io.file import FileSource

        with FileSource(path) as probe:
            total = probe.info.frame_count or VIDEO_TRAINING_FRAMES
        step = max(1, total // VIDEO_TRAINING_FRAMES)
        with FileSource(path, select=lambda i: i % step == 0) as frames:
            for frame in frames:
                yield frame.image
        return
    for photo in find_photos(path):
        try:
            yield load_image(photo)
        except InputError as exc:
            warnings.warn(f"skipping unreadable training image: {exc}", stacklevel=2)


class PhotoCrops:
    """Random (size × size) crops of a photo folder, as float (B, 3, size, size) RGB batches in [0, 1].

    Photos are decoded once and kept with their short side at 1.25·size (291 photos at 256 px ≈ 60 MB);
    each sample takes a random square of side in [size, short side], scales it to ``size`` and flips it
    horizontally half of the time. Unreadable files are skipped with a warning.
    """

    def __init__(self, folder: str | os.PathLike, size: int, seed: int = 0, photo_side: int | None = None,
                 limit: int | None = None) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.images: list[torch.Tensor] = []
        # photo_side > size: crops are patches of larger photos (the subject at the scale of a bigger crop,
        # at a fraction of the loss network's cost per step).
        keep_side = max(size, int(photo_side or round(size * 1.25)))
        for img in _training_images(folder):
            if limit is not None and len(self.images) >= limit:
                break  # the first ``limit`` readable photos, in sorted order: their indices do not change
            t = torch.from_numpy(img if img.flags.writeable else img.copy()).permute(2, 0, 1).unsqueeze(0).float()
            h, w = t.shape[-2:]
            scale = keep_side / min(h, w)
            t = F.interpolate(t, size=(max(size, round(h * scale)), max(size, round(w * scale))),
                              mode="bilinear", antialias=True, align_corners=False)
            self.images.append(t.clamp(0, 255).to(torch.uint8)[0])
        # Distillation: per (photo, view), a fixed crop and the teacher's output for it (uint8), made on first use.
        self.views: dict[tuple[int, int], torch.Tensor] = {}
        self.views_added = 0  # views made since the last save_views
        if not self.images:
            raise InputError(f"no readable photos (jpg, png, webp) under {folder}")

    @staticmethod
    def accepts(path: str | os.PathLike) -> bool:
        """True for what PhotoCrops reads: a folder of photos or a video file."""
        return Path(path).is_dir() or Path(path).suffix.lower() in VIDEO_EXTENSIONS

    def __len__(self) -> int:
        return len(self.images)

    def crop(self, index: int) -> torch.Tensor:
        """One random crop of image ``index``: (3, size, size) float in [0, 1]."""
        img = self.images[index]
        h, w = img.shape[-2:]
        side = self.rng.randint(self.size, min(h, w))
        y, x = self.rng.randint(0, h - side), self.rng.randint(0, w - side)
        patch = img[:, y:y + side, x:x + side].unsqueeze(0).float().div_(255)
        if side != self.size:
            patch = F.interpolate(patch, size=(self.size, self.size), mode="bilinear", antialias=True,
                                  align_corners=False)
        if self.rng.random() < 0.5:
            patch = patch.flip(-1)
        return patch[0]

    def batch(self, batch_size: int) -> torch.Tensor:
        """(B, 3, size, size) float in [0, 1], photos drawn at random."""
        return torch.stack([self.crop(self.rng.randrange(len(self.images))) for _ in range(batch_size)])

    def batch_with_targets(self, batch_size: int, teacher: Callable[[torch.Tensor], torch.Tensor],
                           views: int = DISTILL_VIEWS) -> tuple[torch.Tensor, torch.Tensor]:
        """Photo crops (B, 3, size, size) and the teacher's outputs for them (B, 3·T, size, size; T paintings
        for per-style teachers), float in [0, 1].

        Each photo has ``views`` fixed crops (random windows and flips, drawn on first use); ``teacher`` maps
        (1, 3, size, size) in [0, 1] to its stylization and runs once per view (the pair is kept as uint8, the
        target clamped to [0, 1] as shown), so once every view has been seen a step costs only the student.
        The target is always the teacher's output for exactly that input (a flip of a pair would not be:
        a network is not mirror-symmetric).
        """
        pairs = []
        for _ in range(batch_size):
            key = (self.rng.randrange(len(self.images)), self.rng.randrange(views))
            if key not in self.views:
                photo = self.crop(key[0]).unsqueeze(0)
                with torch.no_grad():
                    styled = teacher(photo).float().clamp(0, 1).cpu()
                self.views[key] = torch.cat([photo, styled], 1)[0].mul(255).round().to(torch.uint8)
                self.views_added += 1
            pairs.append(self.views[key].float().div(255))
        both = torch.stack(pairs)
        return both[:, :3], both[:, 3:]

    def save_views(self, path: Path, tag: str) -> None:
        """Keep the distillation views in a safetensors file (``tag`` names the teacher and data they came from),
        so a resumed run does not run the teacher again."""
        from safetensors.torch import save_file

        tensors = {f"{i}_{k}": v.contiguous() for (i, k), v in self.views.items()}
        with atomic_output(path) as tmp:
            save_file(tensors, str(tmp), metadata={"vidstyle_distill_views": tag})
        self.views_added = 0

    def load_views(self, path: Path, tag: str, targets: int = 1) -> int:
        """Views saved by :meth:`save_views` with the same ``tag`` (others are ignored) and ``targets`` teacher
        outputs each; returns how many."""
        from safetensors import safe_open

        if not path.is_file():
            return 0
        try:
            with safe_open(str(path), "pt") as f:
                if (f.metadata() or {}).get("vidstyle_distill_views") != tag:
                    return 0
                for key in f.keys():
                    i, k = (int(part) for part in key.split("_"))
                    view = f.get_tensor(key)
                    expected = (3 + 3 * targets, self.size, self.size)
                    if i < len(self.images) and view.dtype == torch.uint8 and view.shape == expected:
                        self.views[(i, k)] = view
        except Exception as exc:  # noqa: BLE001 - a damaged cache is only a cache: make the views again
            warnings.warn(f"ignoring unreadable distillation views {path}: {exc}", stacklevel=2)
            self.views.clear()
        return len(self.views)

    def center_crops(self, count: int) -> torch.Tensor:
        """Deterministic centre crops of the first ``count`` photos (for preview grids)."""
        out = []
        for img in self.images[:count]:
            h, w = img.shape[-2:]
            s = min(h, w)
            y, x = (h - s) // 2, (w - s) // 2
            patch = img[:, y:y + s, x:x + s].unsqueeze(0).float().div_(255)
            out.append(F.interpolate(patch, size=(self.size, self.size), mode="bilinear", antialias=True,
                                     align_corners=False)[0])
        return torch.stack(out)


def style_images(style: "str | os.PathLike | list[str | os.PathLike]") -> list[Path]:
    """The style image(s) of a run: one file, a list of files, or every image in a folder (sorted)."""
    items = list(style) if isinstance(style, (list, tuple)) else [style]
    paths: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in PHOTO_EXTENSIONS)
            if not found:
                raise InputError(f"no style images (jpg, png, webp) in {p}")
            paths += found
        elif p.is_file():
            paths.append(p)
        else:
            raise InputError(f"style image not found: {p}")
    if not paths:
        raise InputError("no style image given")
    return paths


def style_names(paths: list[Path], single_name: "str | None" = None) -> list[str]:
    """Style names for ``paths``: the file stems (``single_name`` overrides the name of a single image)."""
    if single_name and len(paths) == 1:
        return [single_name]
    names = [p.stem for p in paths]
    if len(set(names)) != len(names):
        raise InputError(f"style images need distinct file names, got {names}")
    return names


def to_numpy_image(t: torch.Tensor) -> np.ndarray:
    """(3, H, W) float [0, 1] -> (H, W, 3) uint8."""
    return t.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
