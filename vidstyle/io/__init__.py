"""Frame sources and sinks. Each yields or takes :class:`vidstyle.types.Frame` (uint8 RGB + timing).

Sources: ``file.FileSource`` (video files and URLs, PyAV), ``camera.CameraSource`` (OpenCV),
``folder.ImageFolderSource`` (natural sort), ``synthetic.TestPatternSource``.
Sinks: ``encoder.VideoFileSink`` (+ ``encoder.AudioCopy``), ``folder.ImageFolderSink``,
``window.DisplayWindow``, ``virtualcam.VirtualCameraSink``.
Helpers: ``probe.probe_video`` (what a decoder reads back), ``synthetic.write_test_clip``.
Submodules are imported on use, so ``import vidstyle.io`` stays cheap.
"""
