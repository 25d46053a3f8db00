"""`vidstyle train` faults: every bad option refused before anything loads, --out checked before training,
a stop (Ctrl-C, SIGTERM) leaving a usable model, a progress bar that knows about --max-minutes."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.corpus import (Snapshot, assert_refused, partial_files, read_only_folder, run_cli, subprocess_env,
                                 tmpfs, write_image)
from vidstyle.models import load_model

# The smallest real run: a 16-channel one-block fast net on 32-pixel crops.
TINY = ("--arch-param", "channels=16", "--arch-param", "blocks=1", "--size", "32", "--batch", "1",
        "--style-size", "64", "--checkpoint-every", "0", "--preview-every", "0", "--no-progress")


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in range(2):
        write_image(folder / f"p{seed}.png", 64, 80, seed=seed)
    return folder


def train(tmp_path, painting, data, *extra):
    return ("train", "--style", painting, "--data", data, "--out", tmp_path / "out.safetensors",
            "--run-dir", tmp_path / "run", *extra)


@pytest.mark.parametrize("extra,message", [
    (("--batch", "0"), "--batch must be at least 1"),
    (("--size", "0"), "--size must be at least 32"),
    (("--size", "1"), "--size must be at least 32"),
    (("--size", "100000"), "--size must be at most"),
    (("--size", "4096", "--batch", "64"), "more than the limit"),
    (("--lr", "nan"), "--lr must be a finite number"),
    (("--lr", "-1"), "--lr must be"),
    (("--log-every", "0"), "--log-every must be at least 1"),
    (("--threads", "-1"), "--threads must be at least 1"),
    (("--threads", "100000"), "--threads must be at most"),
    (("--arch-param", "channels=-1"), "--arch-param channels must be at least 1"),
    (("--arch-param", "channels=abc"), "--arch-param channels must be a whole number"),
    (("--arch-param", "blocks=100000"), "--arch-param blocks must be at most"),
    (("--arch-param", "colour=1"), "has no parameter"),
    (("--arch-param", "channels"), "KEY=VALUE"),
    (("--steps", "-1"), "--steps must be at least 1"),
    (("--max-minutes", "nan"), "--max-minutes must be a finite number"),
    (("--style-weight", "inf"), "--style-weight must be a finite number"),
])
def test_bad_options_are_refused_before_anything_loads(tmp_path, capsys, painting, data, extra, message):
    started = time.perf_counter()
    assert_refused(run_cli(capsys, *train(tmp_path, painting, data, *extra)), message)
    assert time.perf_counter() - started < 5  # no network, no VGG19, no photos were loaded
    assert not (tmp_path / "out.safetensors").exists() and not (tmp_path / "run").exists()


def test_out_may_not_be_the_model_it_starts_from(tmp_path, capsys, painting, data, tiny_model):
    start = tmp_path / "start.safetensors"
    start.write_bytes(tiny_model.read_bytes())
    start.with_suffix(".json").write_bytes(tiny_model.with_suffix(".json").read_bytes())
    kept = Snapshot(start, start.with_suffix(".json"))
    for flag in ("--init", "--teacher", "--resume"):
        result = run_cli(capsys, "train", "--style", painting, "--data", data, "--out", start, "--overwrite",
                         flag, start, *TINY)
        assert_refused(result, "overwrite the input")
    kept.assert_unchanged()


def test_unwritable_out_and_run_folders_are_refused_before_training(tmp_path, capsys, painting, data):
    with read_only_folder(tmp_path / "ro") as ro:
        result = run_cli(capsys, "train", "--style", painting, "--data", data, "--out", ro / "m.safetensors", *TINY)
        assert_refused(result, "not writable")
        result = run_cli(capsys, *train(tmp_path, painting, data, "--run-dir", ro / "run", *TINY))
        assert_refused(result, "run folder")
    assert not (tmp_path / "out.safetensors").exists()


def test_a_full_disk_at_save_time_is_one_line(tmp_path, capsys, painting, data):
    with tmpfs(tmp_path / "full", size="8k") as full:
        result = run_cli(capsys, "train", "--style", painting, "--data", data, "--out", full / "m.safetensors",
                         "--run-dir", tmp_path / "run", "--steps", "1", *TINY)
        assert_refused(result, "disk full")
        assert sorted(p.name for p in full.iterdir()) == []
    assert partial_files(tmp_path / "run") == []


def test_max_minutes_sets_where_the_progress_bar_ends(tmp_path, capsys, painting, data):
    args = [a for a in train(tmp_path, painting, data, "--steps", "100000", "--max-minutes", "0.03", *TINY)
            if a != "--no-progress"]
    result = run_cli(capsys, *args)
    assert result.code == 0, result.err
    bar = [part for part in result.err.replace("\r", "\n").splitlines() if "step" in part][-1]
    assert "/100000" not in bar, bar  # counts to the steps the time limit allows, with its ETA
    steps = load_model(tmp_path / "out.safetensors").metadata["steps"]
    assert f"{steps}/{steps}" in bar, bar


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_a_run_leaves_a_usable_model_and_a_named_checkpoint(tmp_path, painting, data, sig, capsys):
    out, run = tmp_path / "out.safetensors", tmp_path / "run"
    cmd = [sys.executable, "-m", "vidstyle", "train", "--style", str(painting), "--data", str(data), "--out", str(out),
           "--run-dir", str(run), "--steps", "100000", "--log-every", "1", *TINY]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 180
    log = run / "log.jsonl"
    while time.monotonic() < deadline and proc.poll() is None:
        if log.is_file() and len(log.read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    model = load_model(out)
    assert model.metadata["interrupted"] is True and model.metadata["steps"] >= 2
    assert str(out) in stdout
    result = run_cli(capsys, "stylize", data / "p0.png", tmp_path / "x.png", "--model", run / "checkpoint.safetensors")
    assert_refused(result, "is a training checkpoint, not a model")
    assert json.loads(out.with_suffix(".json").read_text())["interrupted"] is True
