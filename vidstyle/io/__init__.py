"""Frame sources and sinks. Each yields or takes :class:`vidstyle.types.Frame` (uint8 RGB + timing).

Sources: ``file.FileSource`` (video files and URLs, PyAV), ``camera.CameraSource`` (OpenCV),
``folder.ImageFolderSource`` (natural sort), ``synthetic.TestPatternSource``.
Sinks: ``encoder.VideoFileSink`` (+ ``audio.AudioCopy``), ``folder.ImageFolderSink``,
``window.DisplayWindow``, ``virtualcam.VirtualCameraSink``.
Helpers: ``codecs`` (containers, codecs, encoder settings), ``probe.probe_video`` (what a decoder reads
back), ``synthetic`` (test clips and images).
Submodules are imported on use; only cv2 comes with the package (see the end of this file).
"""

# OpenCV before PyAV: both wheels bundle libxcb-shm under one file name, and whichever loads first serves
# both; OpenCV's Qt window built on PyAV's copy hangs forever when it opens. Importing cv2 first costs
# ~0.2 s and keeps `vidstyle live` windows working whatever imported a source first.
try:
    import cv2  # noqa: F401
except ImportError:  # pragma: no cover - a hard dependency; the error surfaces where cv2 is used
    pass
