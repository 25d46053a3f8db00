"""Source -> stylizer -> sink pipelines: the application layer over ``vidstyle.runtime`` and ``vidstyle.io``.

``runner.OrderedPipeline``: file mode, three threads and bounded queues, ordered and lossless.
``video.stylize_video``: the ``vidstyle video`` API. ``live.run_live``: the ``vidstyle live`` loop,
with a capture thread that keeps only the newest frame. ``images.stylize_paths``: ``vidstyle stylize``
(still images and folders). ``bench.run_bench``: ``vidstyle bench``. ``modes``: the temporal modes.
"""
