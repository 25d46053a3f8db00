"""Source -> stylizer -> sink pipelines.

``runner.OrderedPipeline``: file mode, three threads and bounded queues, ordered and lossless.
``video.stylize_video``: the ``vidstyle video`` API. ``live.run_live``: the ``vidstyle live`` loop,
with a capture thread that keeps only the newest frame.
"""
