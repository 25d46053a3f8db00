"""Image folders: natural sort order in, numbered PNGs out."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vidstyle.errors import InputError
from vidstyle.io.folder import ImageFolderSink, ImageFolderSource, natural_key
from vidstyle.io.synthetic import pattern_frame, read_frame_index


def test_natural_order():
    names = ["frame10.png", "frame2.png", "Frame1.png", "frame100.png"]
    assert sorted(names, key=natural_key) == ["Frame1.png", "frame2.png", "frame10.png", "frame100.png"]


def test_folder_round_trip(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in (0, 1, 2, 10, 11):  # 10 and 11 must come after 2
        Image.fromarray(pattern_frame(i, 96, 64)).save(src / f"img{i}.png")
    (src / "notes.txt").write_text("not an image")
    source = ImageFolderSource(src, fps=10)
    assert source.info.frame_count == 5 and source.info.fps == 10
    frames = list(source)
    assert [read_frame_index(f.image) for f in frames] == [0, 1, 2, 10, 11]
    assert [f.pts for f in frames] == [0, 1, 2, 3, 4]

    sink = ImageFolderSink(tmp_path / "out")
    for frame in frames:
        sink.write(frame)
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == [f"frame_{i:06d}.png" for i in range(5)]
    assert np.array_equal(np.asarray(Image.open(written[3])), frames[3].image)


def test_mixed_sizes_are_resized_to_the_first(tmp_path):
    Image.fromarray(pattern_frame(0, 96, 64)).save(tmp_path / "a1.png")
    Image.fromarray(pattern_frame(1, 48, 32)).save(tmp_path / "a2.png")
    assert [f.image.shape for f in ImageFolderSource(tmp_path)] == [(64, 96, 3), (64, 96, 3)]


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(InputError, match="no images"):
        ImageFolderSource(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        ImageFolderSource(tmp_path / "missing")
