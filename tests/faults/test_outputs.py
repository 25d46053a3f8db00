"""The output rule, for every command: never over an input, never over an existing file without --overwrite,
never a device, never a half-written file under the final name."""
from __future__ import annotations

import os

import pytest

from tests.faults.corpus import (Snapshot, assert_refused, frames_of, image_array, partial_files, read_only_folder,
                                 run_cli, write_image)


def stylize(model, *args):
    return ("stylize", *args, "--model", model, "--backend", "torch", "--quiet")


# -- never over an input ---------------------------------------------------------------------------------------


def test_stylize_onto_its_own_input_is_refused(tmp_path, capsys, tiny_model, photo):
    kept = Snapshot(photo)
    assert_refused(run_cli(capsys, *stylize(tiny_model, photo, photo)), "overwrite the input")
    link = tmp_path / "link.png"
    link.symlink_to(photo)
    assert_refused(run_cli(capsys, *stylize(tiny_model, photo, link, "--overwrite")), "overwrite the input")
    hard = tmp_path / "hard.png"
    os.link(photo, hard)
    assert_refused(run_cli(capsys, *stylize(tiny_model, hard, photo, "--overwrite")), "overwrite the input")
    # OUT a folder: the output would be the photo itself.
    assert_refused(run_cli(capsys, *stylize(tiny_model, photo, tmp_path, "--overwrite")), "overwrite the input")
    kept.assert_unchanged()
    assert partial_files(tmp_path) == []


def test_stylize_a_folder_into_a_folder_inside_it_is_refused(tmp_path, capsys, tiny_model):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    write_image(photos / "a.png")
    write_image(photos / "sub" / "a.png", seed=1)
    kept = Snapshot(photos)
    assert_refused(run_cli(capsys, *stylize(tiny_model, photos, photos / "sub")), "inside the input folder")
    assert_refused(run_cli(capsys, *stylize(tiny_model, photos, photos, "--overwrite")), "overwrite the input")
    # A symlink to the input folder is the input folder.
    (tmp_path / "alias").symlink_to(photos)
    assert_refused(run_cli(capsys, *stylize(tiny_model, photos, tmp_path / "alias" / "styled")),
                   "inside the input folder")
    kept.assert_unchanged()
    assert sorted(p.name for p in photos.rglob("*")) == ["a.png", "a.png", "sub"]


def test_export_onto_the_model_or_its_metadata_is_refused(tmp_path, capsys, tiny_model):
    kept = Snapshot(tiny_model, tiny_model.with_suffix(".json"))
    for target in (tiny_model, tiny_model.with_suffix(".json")):
        result = run_cli(capsys, "export", tiny_model, target, "--format", "onnx", "--overwrite")
        assert_refused(result, "overwrite the input")
    kept.assert_unchanged()


def test_video_onto_its_input_by_any_name_is_refused(tmp_path, capsys, tiny_model, clip):
    kept = Snapshot(clip)
    link = tmp_path / "link.mp4"
    link.symlink_to(clip)
    for target in (clip, link, tmp_path / "." / clip.name):
        result = run_cli(capsys, "video", clip, target, "--model", tiny_model, "--overwrite", "-q")
        assert_refused(result, "overwrite the input")
    kept.assert_unchanged()
    assert partial_files(tmp_path) == []


# -- existing outputs need --overwrite ---------------------------------------------------------------------------


def test_every_command_refuses_an_existing_output_without_overwrite(tmp_path, capsys, tiny_model, photo, painting,
                                                                    clip):
    cases = {
        "styled.png": lambda out: stylize(tiny_model, photo, out),
        "gatys.png": lambda out: ("image", photo, painting, out, "--size", "32", "--steps", "0", "--quiet"),
        "model.onnx": lambda out: ("export", tiny_model, out),
        "styled.mp4": lambda out: ("video", clip, out, "--model", tiny_model, "-q"),
        "trained.safetensors": lambda out: ("train", "--style", painting, "--data", tmp_path, "--out", out,
                                            "--steps", "1", "--no-progress"),
    }
    for name, command in cases.items():
        out = tmp_path / name
        out.write_bytes(b"the user's own file")
        kept = Snapshot(out)
        assert_refused(run_cli(capsys, *command(out)), "already exists; pass --overwrite")
        kept.assert_unchanged()
    assert partial_files(tmp_path) == []


def test_overwrite_replaces_an_existing_output(tmp_path, capsys, tiny_model, photo, clip):
    out = tmp_path / "styled.png"
    out.write_bytes(b"old")
    assert run_cli(capsys, *stylize(tiny_model, photo, out, "--overwrite")).code == 0
    assert image_array(out).shape == image_array(photo).shape
    video_out = tmp_path / "styled.mp4"
    video_out.write_bytes(b"old")
    assert run_cli(capsys, "video", clip, video_out, "--model", tiny_model, "-q", "--overwrite").code == 0
    assert frames_of(video_out) == 12
    assert partial_files(tmp_path) == []


def test_stylize_into_a_folder_refuses_existing_files_before_any_work(tmp_path, capsys, tiny_model):
    photos, styled = tmp_path / "photos", tmp_path / "styled"
    photos.mkdir()
    styled.mkdir()
    for name in ("a.png", "b.png"):
        write_image(photos / name)
    (styled / "b.png").write_bytes(b"keep me")
    kept = Snapshot(styled / "b.png")
    assert_refused(run_cli(capsys, *stylize(tiny_model, photos, styled)), "already exist")
    assert sorted(p.name for p in styled.iterdir()) == ["b.png"]  # not even a.png was written
    kept.assert_unchanged()
    assert run_cli(capsys, *stylize(tiny_model, photos, styled, "--overwrite")).code == 0
    assert sorted(p.name for p in styled.iterdir()) == ["a.png", "b.png"]


# -- folders, devices and read-only places ----------------------------------------------------------------------


def test_video_frames_into_an_existing_folder(tmp_path, capsys, tiny_model, clip):
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "frame_000000.png").write_bytes(b"old frame")
    assert_refused(run_cli(capsys, "video", clip, frames, "--model", tiny_model, "-q"), "pass --overwrite")
    assert run_cli(capsys, "video", clip, frames, "--model", tiny_model, "-q", "--overwrite").code == 0
    assert len(list(frames.glob("frame_*.png"))) == 12
    assert image_array(frames / "frame_000000.png").shape == (48, 64, 3)
    # A folder that holds the input is never replaced.
    inside = frames / "clip.mp4"
    inside.write_bytes(clip.read_bytes())
    assert_refused(run_cli(capsys, "video", inside, frames, "--model", tiny_model, "-q", "--overwrite"),
                   "lies inside the output folder")
    assert inside.read_bytes() == clip.read_bytes()
    assert partial_files(tmp_path) == []


def test_an_output_that_is_a_device_or_pipe_is_refused(tmp_path, capsys, tiny_model, photo, clip):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    for command in (("video", clip, fifo, "--model", tiny_model, "-q", "--overwrite"),
                    stylize(tiny_model, photo, tmp_path / "pipe.png", "--overwrite")):
        if command[0] == "stylize":
            os.mkfifo(tmp_path / "pipe.png")
        assert_refused(run_cli(capsys, *command), "not a regular file")
    folder_fifo = tmp_path / "frames"
    os.mkfifo(folder_fifo)
    assert_refused(run_cli(capsys, "video", clip, folder_fifo, "--model", tiny_model, "-q", "--overwrite"),
                   "is not a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "frames", "photo.png", "pipe.mp4", "pipe.png"]


def test_a_read_only_output_folder_is_refused_before_any_work(tmp_path, capsys, tiny_model, photo, clip):
    with read_only_folder(tmp_path / "ro") as ro:
        assert_refused(run_cli(capsys, *stylize(tiny_model, photo, ro / "out.png")), "not writable")
        assert_refused(run_cli(capsys, "video", clip, ro / "out.mp4", "--model", tiny_model, "-q"), "not writable")
        assert_refused(run_cli(capsys, "export", tiny_model, ro / "m.onnx"), "not writable")
        assert list(ro.iterdir()) == []


@pytest.mark.parametrize("command", ["stylize", "video"])
def test_a_missing_output_folder_is_named(tmp_path, capsys, tiny_model, photo, clip, command):
    args = (stylize(tiny_model, photo, tmp_path / "nope" / "out.png") if command == "stylize"
            else ("video", clip, tmp_path / "nope" / "out.mp4", "--model", tiny_model, "-q"))
    assert_refused(run_cli(capsys, *args), "output folder does not exist")
