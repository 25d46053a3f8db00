"""Cutting a video's timeline into segments at keyframes (PyAV demuxing only: no frame is decoded)."""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Optional

import av.error

from vidstyle.errors import InputError
from vidstyle.io.probe import open_video

# A boundary moves to a keyframe this close to it (as a fraction of the segment length); further away, the
# segment starts between keyframes and its worker decodes from the keyframe before (slower, same frames).
KEYFRAME_REACH = 0.25


@dataclass(frozen=True)
class Segment:
    """One piece of the timeline, rendered by one task.

    index: position in the output. first, frames: the output frames it writes (indices into the plan's
        frames). warmup: frames before ``first`` it processes but does not write.
    start, end: input times (seconds) of its first written frame and of the next segment's first frame
        (None: the render's own start/end). decode_from: input time of its first warm-up frame.
    keyframe: whether it starts at a keyframe (a worker then decodes nothing it does not use).
    fade: its first frames, rendered by it and (as ``tail``) by the segment before, cross-faded from that
        one's to its own (--temporal optimize). tail: frames after its end it renders for the next one's fade.
    decode_to: input time where its decoding stops (``end``, or after the tail).
    """

    index: int
    first: int
    frames: int
    warmup: int
    start: Optional[float]
    end: Optional[float]
    decode_from: Optional[float]
    keyframe: bool
    fade: int = 0
    tail: int = 0
    decode_to: Optional[float] = None

    @property
    def name(self) -> str:
        """A name that says which frames it holds (cache files are named by it)."""
        return f"{self.first:06d}+{self.frames}-w{self.warmup}-f{self.fade}-t{self.tail}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Plan:
    """The segments of a render, and the timeline they share.

    pts: presentation timestamps of the output frames (input ``time_base`` units) as the demuxer lists them;
    first_pts: the first one (what the whole render's timestamps are shifted by when it is cut).
    """

    segments: list[Segment]
    pts: list[int]
    keyframes: int
    time_base: Fraction

    @property
    def frames(self) -> int:
        return len(self.pts)

    @property
    def first_pts(self) -> int:
        return self.pts[0]


def frame_index(path: str | os.PathLike, start: Optional[float] = None,
                end: Optional[float] = None) -> tuple[list[int], set[int], Fraction]:
    """The video frames' pts in presentation order inside [start, end), the keyframes' pts, and the time base,
    read from the packets (nothing is decoded)."""
    with open_video(path) as container:
        stream = container.streams.video[0]
        time_base = Fraction(stream.time_base) if stream.time_base else Fraction(1, 1000)
        pts: set[int] = set()
        keys: set[int] = set()
        try:
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                pts.add(int(packet.pts))
                if packet.is_keyframe:
                    keys.add(int(packet.pts))
        except av.error.FFmpegError:
            pass  # damaged data: the frames before it are planned; decoding reports the damage itself
    kept = []
    for p in sorted(pts):
        t = p * time_base
        if start is not None and t < start - 1e-9:
            continue
        if end is not None and t >= end - 1e-9:
            break
        kept.append(p)
    return kept, keys, time_base


def plan_segments(
    path: str | os.PathLike,
    segment_frames: Optional[int] = None,
    warmup: int = 0,
    start: Optional[float] = None,
    end: Optional[float] = None,
    segments: int = 1,
    min_frames: int = 1,
    fade: int = 0,
) -> Plan:
    """Cut the frames of ``path`` inside [start, end) into segments of about ``segment_frames`` frames (None:
    ``segments`` equal ones of at least ``min_frames``), each beginning at a keyframe when one lies within KEYFRAME_REACH of the even
    cut, with ``warmup`` frames before each (fewer where the render begins) and ``fade`` frames cross-faded at
    each join (fewer in a segment too short for them)."""
    pts, keys, time_base = frame_index(path, start, end)
    if not pts:
        where = f" after {start:g} s" if start else ""
        raise InputError(f"no video frames in {path}{where}")
    n = len(pts)
    count = max(1, math.ceil(n / segment_frames) if segment_frames else min(segments, n // max(1, min_frames)))
    length = n / count
    reach = int(length * KEYFRAME_REACH)
    key_indices = [i for i, p in enumerate(pts) if p in keys]
    cuts = [0]
    for k in range(1, count):
        ideal = round(k * length)
        near = [i for i in key_indices if abs(i - ideal) <= reach and i > cuts[-1]]
        cut = min(near, key=lambda i: (abs(i - ideal), i)) if near else ideal
        if cut > cuts[-1] and cut < n:
            cuts.append(cut)
    cuts.append(n)

    def time(i: int) -> float:
        return float(pts[i] * time_base)

    bounds = list(zip(cuts[:-1], cuts[1:]))
    fades = [0 if k == 0 else min(fade, b - a - 1) for k, (a, b) in enumerate(bounds)]
    segments = []
    for index, (a, b) in enumerate(bounds):
        w = min(warmup, a)
        tail = fades[index + 1] if index + 1 < len(bounds) else 0
        segments.append(Segment(
            index=index, first=a, frames=b - a, warmup=w,
            start=start if a == 0 else time(a),
            end=end if b == n else time(b),
            decode_from=start if a - w == 0 else time(a - w),
            keyframe=pts[a - w] in keys,
            fade=fades[index], tail=tail,
            decode_to=time(b + tail) if tail and b + tail < n else (end if b + tail >= n else time(b)),
        ))
    return Plan(segments=segments, pts=pts, keyframes=len(keys), time_base=time_base)
