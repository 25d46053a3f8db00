"""Measures of how a stylized image looks, that agree with the eye (benchmarks/look.py uses them).

- palette ratio: how far the colours moved toward the painting's. The sliced Wasserstein distance between
  the output's CIELAB pixel distribution and the painting's, divided by the same distance for the
  unstylized photo: 1.0 means the colours did not move, 0 that they match the painting's.
- style ratio: the Gram style loss (VGG19, Gatys layers) of the output against the painting divided by
  the photo's own: how much of the painting's texture statistics the output took on.
- structure kept: SSIM of the luminance against the photo (Wang et al. 2004): is the photo recognisable.
- a colour-transfer control (Reinhard et al. 2001): the photo moved to the painting's Lab mean and spread,
  which scores well on palette with no brushwork at all, so palette alone is never read as style.
- artefact scores: a stride-periodic grid (spectral peak at the network's stride) and lines along the borders.

Images are (H, W, 3) uint8 RGB arrays unless said otherwise.
"""
from __future__ import annotations

import cv2
import numpy as np

# Gaussian SSIM window of Wang et al. 2004.
_SSIM_SIGMA = 1.5
_SSIM_C1 = (0.01 * 255) ** 2
_SSIM_C2 = (0.03 * 255) ** 2


def to_lab(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W, 3) float32 CIELAB (L in [0, 100], a and b about [-128, 127])."""
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, projections: int = 64, samples: int = 20000,
                       seed: int = 0) -> float:
    """Sliced 1-Wasserstein distance between two point clouds (N, D) and (M, D).

    Each cloud is subsampled to ``samples`` points; for each of ``projections`` fixed random unit
    directions the two projected distributions are compared quantile by quantile.
    """
    rng = np.random.default_rng(seed)
    a = a[rng.choice(len(a), min(samples, len(a)), replace=False)]
    b = b[rng.choice(len(b), min(samples, len(b)), replace=False)]
    dirs = rng.normal(size=(projections, a.shape[1]))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    q = np.linspace(0.0, 1.0, 257)
    qa = np.quantile(a @ dirs.T, q, axis=0)
    qb = np.quantile(b @ dirs.T, q, axis=0)
    return float(np.abs(qa - qb).mean())


def palette_distance(image: np.ndarray, painting: np.ndarray) -> float:
    """Sliced Wasserstein distance between the Lab pixel distributions of two RGB images."""
    return sliced_wasserstein(to_lab(image).reshape(-1, 3), to_lab(painting).reshape(-1, 3))


def palette_ratio(output: np.ndarray, photo: np.ndarray, painting: np.ndarray) -> float:
    """palette_distance(output, painting) / palette_distance(photo, painting): 1.0 = colours unmoved."""
    return palette_distance(output, painting) / max(palette_distance(photo, painting), 1e-6)


def luminance_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of the luminance (Rec. 601 Y, 0-255) of two same-size RGB images."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {a.shape} vs {b.shape}")
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)

    def blur(t: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(t, (11, 11), _SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    ssim = ((2 * mx * my + _SSIM_C1) * (2 * cxy + _SSIM_C2)) / ((mx * mx + my * my + _SSIM_C1) * (vx + vy + _SSIM_C2))
    return float(ssim.mean())


def colour_transfer(photo: np.ndarray, painting: np.ndarray) -> np.ndarray:
    """Reinhard et al. 2001: the photo's Lab channels shifted and scaled to the painting's mean and spread."""
    src, ref = to_lab(photo), to_lab(painting)
    mean_s, std_s = src.reshape(-1, 3).mean(0), src.reshape(-1, 3).std(0) + 1e-6
    mean_r, std_r = ref.reshape(-1, 3).mean(0), ref.reshape(-1, 3).std(0)
    out = (src - mean_s) / std_s * std_r + mean_r
    out[..., 0] = np.clip(out[..., 0], 0, 100)
    rgb = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_LAB2RGB)
    return (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def periodic_peak_ratio(image: np.ndarray, period: int) -> float:
    """How far the spectrum at 1/period stands above its neighbours, for the image's row and column profiles.

    image: (H, W, 3) RGB, any numeric dtype in 0-255. The smooth trend is removed first (a 9-px box blur),
    so only fine periodic structure is left. Returns max over axes of |FFT| at the period's frequency ÷ the
    background: the median |FFT| over all non-zero frequencies, but at least what a 0.25-grey-level
    sinusoid gives (so invisible ripples on a perfectly flat output do not count). A visible grid gives > 8.
    """
    gray = image.astype(np.float64).mean(axis=2)
    trend = cv2.blur(gray, (9, 9), borderType=cv2.BORDER_REPLICATE)
    detail = (gray - trend)[8:-8, 8:-8]  # away from the borders (border_outlier_ratio covers those)
    worst = 0.0
    for profile in (detail.mean(axis=0), detail.mean(axis=1)):
        spectrum = np.abs(np.fft.rfft(profile - profile.mean()))
        n = len(profile)
        k = round(n / period)
        background = max(float(np.median(spectrum[1:])), 0.25 * n / 2)
        worst = max(worst, float(spectrum[max(k - 1, 0):k + 2].max() / background))
    return worst


def border_outlier_ratio(image: np.ndarray) -> float:
    """Step between the outermost row/column and its neighbour, ÷ the largest such step inside the image.

    image: (H, W, 3) RGB in 0-255. A line along a border gives > 2.
    """
    a = image.astype(np.float64).mean(axis=2)
    row_steps = np.abs(np.diff(a.mean(axis=1)))
    col_steps = np.abs(np.diff(a.mean(axis=0)))
    border = max(row_steps[0], row_steps[-1], col_steps[0], col_steps[-1])
    inner = max(row_steps[2:-2].max(), col_steps[2:-2].max(), 1.0)  # 1 grey level: an invisible step
    return float(border / inner)
