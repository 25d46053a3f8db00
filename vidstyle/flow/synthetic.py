"""Scenes with known motion, for tests, benchmarks and demos of flow and temporal consistency.

Everything is drawn with numpy/OpenCV from a seed, so the true motion is known exactly.
"""
from __future__ import annotations

import cv2
import numpy as np


def textured_image(height: int = 120, width: int = 160, seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8 RGB with texture at several scales (flow needs gradients everywhere)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.float32)
    for sigma, amp in ((6.0, 0.6), (2.5, 0.3), (1.2, 0.15)):
        noise = rng.normal(0, 1, (height, width, 3)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), sigma)
        img += amp * noise / (noise.std() + 1e-6)
    img = 0.5 + 0.18 * img
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def shift_image(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Content moved by (dx, dy) px: result(x) = image(x − (dx, dy)), bilinear, edges replicated."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, m, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def moving_square_frames(
    background: np.ndarray, top_left: tuple[int, int], step: tuple[int, int], size: int, count: int, seed: int = 3
) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    """Frames of a textured square moving by ``step`` (dx, dy) per frame over a static background."""
    patch = textured_image(size, size, seed=seed)
    patch = (255 - patch // 2)  # brighter than the background so it cannot be mistaken for it
    frames, positions = [], []
    x, y = top_left
    for _ in range(count):
        frame = background.copy()
        frame[y : y + size, x : x + size] = patch
        frames.append(frame)
        positions.append((x, y))
        x, y = x + step[0], y + step[1]
    return frames, positions


def noisy_static_frames(image: np.ndarray, count: int, noise_std: float = 4.0, seed: int = 0) -> list[np.ndarray]:
    """A still shot with fresh Gaussian sensor noise (std in 0–255 units) in every frame, like a webcam on a desk."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        noisy = image.astype(np.float32) + rng.normal(0.0, noise_std, image.shape).astype(np.float32)
        frames.append(np.clip(noisy + 0.5, 0, 255).astype(np.uint8))
    return frames
