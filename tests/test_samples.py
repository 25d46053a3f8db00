"""Every sample in samples/ runs as a user runs it: a subprocess in a fresh folder, writing what it says."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
# What each sample leaves in its working folder.
WRITES = {
    "stylize_video.py": ["stylized.mp4"],
    "live_custom_sink.py": ["contact_sheet.png"],
    "train_style.py": ["my_style-fast.safetensors", "my_style.png"],
    "evaluate_flicker.py": ["flicker-none.mp4", "flicker-smooth.mp4"],
    "blend_styles.py": ["blend_strip.png"],
}


def test_every_sample_is_checked_here():
    assert sorted(p.name for p in SAMPLES.glob("*.py")) == sorted(WRITES)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WRITES))
def test_sample_runs(name, tmp_path):
    # No media folder: the samples generate their input, so the test needs nothing from outside.
    env = {**os.environ, "VIDSTYLE_MEDIA": str(tmp_path / "no-media")}
    done = subprocess.run([sys.executable, str(SAMPLES / name)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "a sample says what it did"
    for written in WRITES[name]:
        assert (tmp_path / written).stat().st_size > 0, written
