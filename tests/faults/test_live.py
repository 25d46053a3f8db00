"""`vidstyle live` faults: a recording never replaces the camera's own file; bad numbers are one line."""
from __future__ import annotations

import pytest

from tests.faults.corpus import Snapshot, assert_refused, partial_files, run_cli


def live(clip, model, *extra):
    return ("live", "--camera", clip, "--model", model, "--no-display", "--frames", "5", "--backend", "torch", *extra)


def test_recording_onto_the_camera_file_is_refused(tmp_path, capsys, tiny_model, clip):
    kept = Snapshot(clip)
    assert_refused(run_cli(capsys, *live(clip, tiny_model, "--record", clip)), "overwrite the input")
    assert_refused(run_cli(capsys, *live(clip, tiny_model, "--record", clip, "--overwrite")), "overwrite the input")
    link = tmp_path / "link.mp4"
    link.symlink_to(clip)
    assert_refused(run_cli(capsys, *live(clip, tiny_model, "--record", link, "--overwrite")), "overwrite the input")
    kept.assert_unchanged()
    assert partial_files(tmp_path) == []


def test_an_existing_recording_needs_overwrite(tmp_path, capsys, tiny_model, clip):
    out = tmp_path / "rec.mp4"
    out.write_bytes(b"an earlier recording")
    kept = Snapshot(out)
    assert_refused(run_cli(capsys, *live(clip, tiny_model, "--record", out)), "already exists; pass --overwrite")
    kept.assert_unchanged()


@pytest.mark.parametrize("extra,message", [
    (("--fps", "0"), "--fps must be"),
    (("--fps", "-5"), "--fps must be"),
    (("--fps", "nan"), "--fps must be a finite number"),
    (("--frames", "-1"), "--frames must be at least 1"),
    (("--strength", "nan"), "--strength must be a finite number"),
    (("--threads", "100000"), "--threads must be at most"),
    (("--size", "0x0"), "--size must be between"),
])
def test_live_numbers(capsys, tiny_model, clip, extra, message):
    args = [a for a in live(clip, tiny_model, *extra)]
    if "--frames" in extra:
        i = args.index("--frames")
        del args[i:i + 2]
        args += list(extra)
    assert_refused(run_cli(capsys, *args), message)
