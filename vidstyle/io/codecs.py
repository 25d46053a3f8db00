"""Output containers and video codecs: the muxer a file extension means, the encoder a codec name means,
and each encoder's settings (constant quality, speed preset), for :mod:`vidstyle.io.encoder` and the tests' clips.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import av

from vidstyle.errors import OutputError
from vidstyle.utils import validate

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mkv": "matroska", ".webm": "webm", ".mov": "mov"}
ENCODERS = {"h264": "libx264", "hevc": "libx265", "vp9": "libvpx-vp9", "av1": "libsvtav1"}
# Codec used when --codec is not given, per container.
DEFAULT_CODEC = {"webm": "vp9"}
PRESETS = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
DEFAULT_CRF = {"h264": 20, "hevc": 24, "vp9": 32, "av1": 32}
CRF_RANGE = {"h264": (0, 51), "hevc": (0, 51), "vp9": (0, 63), "av1": (1, 63)}
DEFAULT_PRESET = "superfast"
# Audio encoder for audio that must be transcoded (or written), per container; AAC elsewhere.
AUDIO_ENCODERS = {"webm": "libopus"}


def container_for(path: str | os.PathLike) -> str:
    """FFmpeg muxer name for an output path, from its extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in CONTAINERS:
        raise OutputError(f"unsupported output format {suffix or '(none)'!r}: use one of {', '.join(sorted(CONTAINERS))}")
    return CONTAINERS[suffix]


def resolve_codec(path: str | os.PathLike, codec: str = "auto") -> str:
    """Pick and check the codec for an output path: returns h264/hevc/vp9/av1."""
    muxer = container_for(path)
    codec = (codec or "auto").lower()
    if codec == "auto":
        codec = DEFAULT_CODEC.get(muxer, "h264")
    if codec not in ENCODERS:
        raise OutputError(f"unknown codec {codec!r}: use one of {', '.join(ENCODERS)}")
    if ENCODERS[codec] not in av.codecs_available:
        raise OutputError(f"this FFmpeg build has no {ENCODERS[codec]} encoder for --codec {codec}")
    allowed = {"webm": {"vp9", "av1"}, "mov": {"h264", "hevc"}}.get(muxer)
    if allowed is not None and codec not in allowed:
        raise OutputError(f"{Path(path).suffix} files cannot hold {codec}: use --codec {' or '.join(sorted(allowed))}")
    return codec


def encoder_options(codec: str, crf: Optional[int], preset: Optional[str]) -> dict[str, str]:
    """The FFmpeg options of ``codec``'s encoder for a constant-quality ``crf`` (None: the codec's default)
    and an x264-style speed ``preset`` (None: DEFAULT_PRESET), mapped onto each encoder's own knob."""
    preset = (preset or DEFAULT_PRESET).lower()
    if preset not in PRESETS:
        raise OutputError(f"unknown preset {preset!r}: use one of {', '.join(PRESETS)}")
    low, high = CRF_RANGE[codec]
    crf = DEFAULT_CRF[codec] if crf is None else validate.integer(f"--crf for {codec}", crf, low, high)
    speed = PRESETS.index(preset)  # 0 fastest .. 8 slowest
    if codec == "h264":
        return {"crf": str(crf), "preset": preset}
    if codec == "hevc":
        return {"crf": str(crf), "preset": preset, "x265-params": "log-level=error"}
    if codec == "vp9":
        # cpu-used 8 (fastest) .. 0 (slowest); "realtime" deadline for the three fastest presets.
        return {
            "crf": str(crf),
            "b": "0",
            "row-mt": "1",
            "deadline": "realtime" if speed <= 2 else "good",
            "cpu-used": str(max(0, 8 - speed)),
        }
    # SVT-AV1: preset 12 (fastest) .. 4 (slowest). It logs its whole configuration unless told not to.
    os.environ.setdefault("SVT_LOG", "1")
    return {"crf": str(crf), "preset": str(max(4, 12 - speed))}


def audio_encoder_for(path: str | os.PathLike) -> str:
    """FFmpeg audio encoder for an output path: Opus in WebM, AAC in the other containers."""
    return AUDIO_ENCODERS.get(CONTAINERS.get(Path(path).suffix.lower(), ""), "aac")
