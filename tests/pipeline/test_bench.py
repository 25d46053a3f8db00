"""vidstyle bench: parsing, model-only timings, the live measurement and the CLI's JSON."""
from __future__ import annotations

import json

import pytest

from vidstyle.errors import InputError
from vidstyle.pipeline.bench import BenchOptions, format_report, parse_sizes, run_bench


def test_parse_sizes():
    assert parse_sizes("320x240, 640X480") == ((320, 240), (640, 480))
    for bad in ("640", "640x", "axb", "4x4", ""):
        with pytest.raises(InputError):
            parse_sizes(bad)


def test_model_only_and_live_figures():
    options = BenchOptions(models=("fast",), sizes=((96, 64),), backends=("auto", "torch"), device="cpu",
                           runs=3, warmup=1, live=True, live_sizes=((96, 64),), live_seconds=1.0)
    report = run_bench(options)
    assert not report.errors
    assert [t.backend.split("→")[0] for t in report.model_only] == ["auto", "torch"]
    for t in report.model_only:
        assert t.ms_median > 0 and t.fps == pytest.approx(1000.0 / t.ms_median)
        assert t.cpu_ms_median > 0 and t.threads >= 1
    assert len(report.live) == 2
    for live in report.live:
        assert live.frames_shown > 0 and live.fps > 0 and live.latency_ms_median > 0
    table = format_report(report)
    assert "96×64" in table and "latency" in table


def test_unavailable_backend_is_reported_not_fatal():
    report = run_bench(BenchOptions(models=("fast",), sizes=((64, 48),), backends=("nonsense", "torch"),
                                    device="cpu", runs=1, warmup=0, live=False))
    assert len(report.errors) == 1 and "nonsense" in report.errors[0]
    assert len(report.model_only) == 1


def test_cli_json(capsys):
    from vidstyle.cli.main import main

    code = main(["bench", "--model", "fast", "--sizes", "64x48", "--backends", "torch", "--device", "cpu",
                 "--runs", "2", "--no-live", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model_only"][0]["width"] == 64 and data["machine"]["cores"] >= 1


def test_cli_bad_sizes_is_one_line_error(capsys):
    from vidstyle.cli.main import main

    assert main(["bench", "--sizes", "big", "--no-live"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidstyle: error:")
