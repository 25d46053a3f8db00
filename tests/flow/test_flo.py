import numpy as np
import pytest

from vidstyle.errors import InputError
from vidstyle.flow import endpoint_error, read_flo, write_flo


def test_flo_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    flow = rng.normal(0, 5, (7, 11, 2)).astype(np.float32)
    path = write_flo(flow, tmp_path / "f.flo")
    assert path.stat().st_size == 12 + 7 * 11 * 8
    back = read_flo(path)
    assert back.shape == (7, 11, 2) and np.array_equal(back, flow)
    assert endpoint_error(back, flow) == 0.0
    assert endpoint_error(back + np.float32([3, 4]), flow) == pytest.approx(5.0)


def test_flo_layout_is_middlebury(tmp_path):
    # Header then u, v interleaved per pixel, row-major: pixel (row 0, col 1) is the 2nd pair.
    data = np.array([202021.25], "<f4").tobytes() + np.array([2, 1], "<i4").tobytes()
    data += np.array([1, 2, 3, 4], "<f4").tobytes()
    (tmp_path / "m.flo").write_bytes(data)
    flow = read_flo(tmp_path / "m.flo")
    assert flow.shape == (1, 2, 2)
    assert flow[0, 1].tolist() == [3.0, 4.0]


def test_bad_flo_files_raise_input_error(tmp_path):
    (tmp_path / "bad.flo").write_bytes(b"HEIP" + b"\0" * 20)  # "PIEH" is the real magic
    with pytest.raises(InputError, match="magic"):
        read_flo(tmp_path / "bad.flo")
    header = np.array([202021.25], "<f4").tobytes() + np.array([100, 100], "<i4").tobytes()
    (tmp_path / "short.flo").write_bytes(header + b"\0" * 16)
    with pytest.raises(InputError, match="truncated"):
        read_flo(tmp_path / "short.flo")
    with pytest.raises(InputError, match="not found"):
        read_flo(tmp_path / "missing.flo")
