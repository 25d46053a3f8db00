"""OrderedPipeline: order, losslessness, back-pressure and error propagation across its threads."""
from __future__ import annotations

import random
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

from vidstyle.pipeline.runner import OrderedPipeline
from vidstyle.types import Frame


def frames(n: int):
    for i in range(n):
        yield Frame(image=np.full((4, 4, 3), i % 256, np.uint8), pts=i, time_base=Fraction(1, 25), index=i)


def test_every_frame_arrives_once_in_order_despite_jittery_stages():
    rng = random.Random(0)
    written = []

    def process(batch):
        time.sleep(rng.random() * 0.002)
        return [f.with_image(255 - f.image) for f in batch]

    def sink(frame):
        time.sleep(rng.random() * 0.002)
        written.append(frame)

    stats = OrderedPipeline(frames(200), process, sink, queue_size=3).run()
    assert [f.index for f in written] == list(range(200))
    assert all(int(f.image[0, 0, 0]) == 255 - (f.index % 256) for f in written)
    assert stats.frames_in == stats.frames_out == 200


def test_batches_keep_order_and_size():
    sizes = []

    def process(batch):
        sizes.append(len(batch))
        time.sleep(0.005)  # let frames queue up so batches fill
        return batch

    written = []
    OrderedPipeline(frames(50), process, written.append, queue_size=8, batch_size=4).run()
    assert [f.index for f in written] == list(range(50))
    assert max(sizes) == 4 and sum(sizes) == 50


def test_back_pressure_bounds_frames_in_flight():
    produced = []
    in_flight = []
    written = []

    def source():
        for frame in frames(60):
            produced.append(frame.index)
            yield frame

    def slow_sink(frame):
        in_flight.append(len(produced) - len(written))
        time.sleep(0.003)
        written.append(frame)

    OrderedPipeline(source(), lambda b: b, slow_sink, queue_size=2).run()
    # Two queues of 2, plus one frame held by each of the three threads, plus the one being produced.
    assert max(in_flight) <= 2 + 2 + 3 + 1
    assert len(written) == 60


def test_a_failing_stage_stops_the_run_and_its_error_surfaces():
    seen = []

    def process(batch):
        if batch[0].index == 7:
            raise ValueError("model exploded")
        return batch

    pipeline = OrderedPipeline(frames(1000), process, seen.append, queue_size=2)
    with pytest.raises(ValueError, match="model exploded"):
        pipeline.run()
    assert len(seen) == 7
    time.sleep(0.2)
    assert not any(t.name.startswith("vidstyle-") for t in threading.enumerate())


def test_source_errors_surface_too():
    def broken():
        yield from frames(3)
        raise OSError("disk vanished")

    with pytest.raises(OSError, match="disk vanished"):
        OrderedPipeline(broken(), lambda b: b, lambda f: None).run()
