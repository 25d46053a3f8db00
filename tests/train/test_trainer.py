"""The trainer on tiny generated photo folders: loss goes down, checkpoints resume, bad data is reported."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.errors import InputError
from vidstyle.models import load_model
from vidstyle.train import TrainConfig, Trainer, train
from vidstyle.train.data import PhotoCrops, find_photos
from vidstyle.train.motion import inside, move, random_flow


@pytest.fixture
def photo_folder(tmp_path):
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    for i in range(4):
        sub = folder / "nested" if i % 2 else folder
        Image.fromarray(synthetic_scene(72, 88, seed=i)).save(sub / f"p{i}.{['png', 'jpg', 'webp', 'png'][i]}")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    (folder / "notes.txt").write_text("ignored")
    style = tmp_path / "style.png"
    Image.fromarray(synthetic_style(64, 64)).save(style)
    return folder, style


def _config(tmp_path, photo_folder, **kw):
    folder, style = photo_folder
    base = dict(style=style, data=folder, out=tmp_path / "out" / "toy-fast.safetensors", run_dir=tmp_path / "run",
                arch="fast", size=48, batch=2, style_size=64, steps=20, lr=1e-2, warmup_steps=2, log_every=5,
                checkpoint_every=10, preview_every=10, progress=False, precision="fp32", seed=0, overwrite=True)
    base.update(kw)
    (tmp_path / "out").mkdir(exist_ok=True)
    return TrainConfig(**base)


def test_photo_folder_is_recursive_and_skips_unreadable(photo_folder):
    folder, _ = photo_folder
    assert len(find_photos(folder)) == 5  # 4 photos + the broken jpg; notes.txt is not a photo
    with pytest.warns(UserWarning, match="broken.jpg"):
        crops = PhotoCrops(folder, 32, seed=0)
    assert len(crops) == 4
    batch = crops.batch(3)
    assert batch.shape == (3, 3, 32, 32) and 0 <= batch.min() and batch.max() <= 1
    with pytest.warns(UserWarning, match="broken.jpg"):
        first = PhotoCrops(folder, 32, seed=0, limit=2)  # --photos 2: the first two readable, same indices
    assert len(first) == 2 and all(torch.equal(first.images[i], crops.images[i]) for i in range(2))


def test_empty_or_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        PhotoCrops(tmp_path / "absent", 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no readable photos"):
        PhotoCrops(tmp_path / "empty", 32)


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_twenty_steps_lower_the_loss_and_save_a_model(tmp_path, photo_folder):
    result = train(_config(tmp_path, photo_folder), log=lambda s: None)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [5, 10, 15, 20]
    assert log[-1]["total"] < 0.7 * log[0]["total"]
    assert (tmp_path / "run" / "preview-000020.jpg").is_file()
    model = load_model(result.path)
    meta = model.metadata
    assert meta["architecture"] == "fast" and meta["steps"] == 20 and meta["style_name"] == "style"
    assert len(meta["style_image_sha256"]) == 64 and meta["training"]["size"] == 48
    assert meta["losses"]["style"] == pytest.approx(log[-1]["style"])


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_resume_continues_from_the_checkpoint(tmp_path, photo_folder):
    first = Trainer(_config(tmp_path, photo_folder, steps=10), log=lambda s: None)
    first.train()
    saved = {k: v.clone() for k, v in first.network.state_dict().items()}
    second = Trainer(_config(tmp_path, photo_folder, steps=12, resume="auto"), log=lambda s: None)
    assert second.step == 10
    for k, v in second.network.state_dict().items():
        assert torch.equal(v, saved[k]), k
    assert second.optimizer.state_dict()["state"], "Adam state restored"
    second.train()
    assert load_model(second.config.out).metadata["steps"] == 12


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_ctrl_c_saves_a_checkpoint(tmp_path, photo_folder, monkeypatch):
    trainer = Trainer(_config(tmp_path, photo_folder, steps=50, checkpoint_every=0), log=lambda s: None)
    calls = {"n": 0}
    original = trainer.data.batch

    def interrupting_batch(n):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(n)

    monkeypatch.setattr(trainer.data, "batch", interrupting_batch)
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    resumed = Trainer(_config(tmp_path, photo_folder, steps=50, resume="auto"), log=lambda s: None)
    assert resumed.step == 3


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_temporal_training_logs_a_temporal_loss(tmp_path, photo_folder):
    train(_config(tmp_path, photo_folder, steps=4, temporal=True, log_every=2), log=lambda s: None)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(r["temporal"] > 0 for r in log)
    assert load_model(tmp_path / "out" / "toy-fast.safetensors").metadata["temporal"] is True


def test_grid_penalty_is_logged_and_can_be_turned_off(tmp_path, photo_folder):
    train(_config(tmp_path, photo_folder, steps=4, log_every=2), log=lambda s: None)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(r["grid"] > 0 for r in log)
    assert load_model(tmp_path / "out" / "toy-fast.safetensors").metadata["training"]["grid_weight"] == 1e8
    train(_config(tmp_path, photo_folder, steps=2, log_every=2, grid_weight=0.0, run_dir=tmp_path / "run0"),
          log=lambda s: None)
    log = [json.loads(line) for line in (tmp_path / "run0" / "log.jsonl").read_text().splitlines()]
    assert all(r["grid"] == 0 for r in log)


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_init_chain_records_the_earlier_runs(tmp_path, photo_folder):
    first = train(_config(tmp_path, photo_folder, steps=3, log_every=3), log=lambda s: None).path
    second = train(_config(tmp_path, photo_folder, steps=2, log_every=2, init=str(first), run_dir=tmp_path / "run2",
                           out=tmp_path / "out" / "toy2-fast.safetensors"), log=lambda s: None).path
    meta = load_model(second).metadata
    assert [(r["model"], r["steps"]) for r in meta["history"]] == [("toy-fast", 3)]
    assert meta["steps"] == 2 and meta["total_steps"] == 5
    assert meta["total_train_wall_time_s"] >= meta["train_wall_time_s"]


def test_synthetic_motion_is_small_smooth_and_masked():
    g = torch.Generator().manual_seed(0)
    flow = random_flow(2, 40, 50, g)
    assert flow.shape == (2, 2, 40, 50)
    assert flow.abs().max() < 12
    mask = inside(flow)
    assert 0.5 < mask.mean() < 1.0 or mask.mean() == 1.0
    # moving a horizontal ramp by a pure shift of +3 px in x adds 3 px worth of ramp
    ramp = torch.arange(50, dtype=torch.float32).view(1, 1, 1, 50).expand(1, 1, 40, 50)
    shift = torch.zeros(1, 2, 40, 50)
    shift[:, 0] = 3
    moved = move(ramp, shift)
    assert torch.allclose(moved[..., :40], ramp[..., :40] + 3)


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_distillation_makes_a_smaller_net_reproduce_the_teacher(tmp_path, photo_folder):
    """--teacher: a 16-channel student learns a trained 48-channel model's outputs from pixels alone."""
    teacher = train(_config(tmp_path, photo_folder, steps=20), log=lambda s: None).path
    config = _config(tmp_path, photo_folder, teacher=str(teacher), arch_params={"channels": 16}, steps=40,
                     out=tmp_path / "out" / "student.safetensors", run_dir=tmp_path / "student-run")
    trainer = Trainer(config, log=lambda s: None)
    photos = trainer.data.batch(4)

    def gap():
        with torch.no_grad():
            return float((trainer.network.eval()(photos) - trainer.teacher(photos).clamp(0, 1)).abs().mean())

    before = gap()
    trainer.network.train()
    trainer.train()
    after = gap()
    assert after < 0.5 * before
    log = [json.loads(line) for line in (tmp_path / "student-run" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["distill"] < log[0]["distill"] and log[-1]["style"] == 0.0  # no VGG losses computed
    meta = load_model(config.out).metadata
    assert meta["arch_params"]["channels"] == 16 and meta["training"]["teacher"] == str(teacher)
    from vidstyle.cli.models import _summary

    assert "distilled from toy-fast" in _summary(meta)  # `vidstyle models list`: no style loss of its own


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_distillation_refuses_a_teacher_of_another_style(tmp_path, photo_folder):
    teacher = train(_config(tmp_path, photo_folder, steps=2), log=lambda s: None).path
    other = tmp_path / "other-style.png"
    Image.fromarray(synthetic_scene(64, 64, seed=9)).save(other)
    with pytest.raises(InputError, match="another style image"):
        Trainer(_config(tmp_path, photo_folder, style=other, teacher=str(teacher), out=tmp_path / "student.safetensors"),
                log=lambda s: None)


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_teacher_targets_run_once_per_view_and_match_the_crop(photo_folder):
    """Distillation targets: the teacher runs once per fixed view of a photo, and each target is its output for
    exactly the photo crop beside it."""
    from vidstyle.train.data import PhotoCrops

    crops = PhotoCrops(photo_folder[0], 32, seed=3)
    calls = []

    def teacher(photo: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(photo.shape))
        return 1.0 - photo  # pointwise: a target is its crop's negative exactly when the windows match

    for _ in range(20):
        x, target = crops.batch_with_targets(4, teacher, views=2)
        assert x.shape == target.shape == (4, 3, 32, 32)
        assert float((target - (1.0 - x)).abs().max()) <= 1.5 / 255  # uint8 storage
    assert set(calls) == {(1, 3, 32, 32)}
    assert len(calls) == len(crops.views) <= 2 * len(crops)  # never twice for one view


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_a_resumed_distillation_keeps_the_teachers_outputs(tmp_path, photo_folder):
    """The teacher's outputs are saved beside the checkpoint; a resumed run starts with them."""
    teacher = train(_config(tmp_path, photo_folder, steps=2), log=lambda s: None).path
    student = dict(teacher=str(teacher), arch_params={"channels": 16}, out=tmp_path / "out" / "student.safetensors",
                   run_dir=tmp_path / "student-run")
    first = Trainer(_config(tmp_path, photo_folder, steps=6, **student), log=lambda s: None)
    first.train()
    made = dict(first.data.views)
    assert made and (tmp_path / "student-run" / "distill-views.safetensors").is_file()
    lines = []
    resumed = Trainer(_config(tmp_path, photo_folder, steps=8, resume="auto", **student), log=lines.append)
    assert resumed.data.views.keys() == made.keys()
    assert all(torch.equal(resumed.data.views[k], v) for k, v in made.items())
    assert any(f"{len(made)} teacher outputs kept" in line for line in lines)
    other = dict(student, teacher=str(train(_config(tmp_path, photo_folder, steps=1, seed=5,
                                                    out=tmp_path / "out" / "t2.safetensors"),
                                            log=lambda s: None).path))
    assert not Trainer(_config(tmp_path, photo_folder, steps=8, resume="auto", **other), log=lambda s: None).data.views


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_an_optimisation_teacher_paints_each_view_once_and_names_itself_in_the_cache(tmp_path, photo_folder):
    """--teacher gatys: the caller supplies the painter (the training layer does not import the optimiser); it
    runs once per view, with --distill-views views per photo, and a resumed run keeps its paintings."""
    calls = []

    class Painter:
        identity = "toy-painter"

        def __call__(self, photo):
            calls.append(photo.shape)
            return 1.0 - photo

    def factory(style, config, device):
        assert style == photo_folder[1] and config.teacher == "gatys"
        return Painter()

    settings = dict(teacher="gatys", distill_views=1, arch_params={"channels": 16}, run_dir=tmp_path / "painted")
    with pytest.raises(InputError, match="gatys"):
        Trainer(_config(tmp_path, photo_folder, steps=2, **settings), log=lambda s: None)
    progress = []
    trainer = Trainer(_config(tmp_path, photo_folder, steps=6, **settings), log=progress.append,
                      teachers={"gatys": factory})
    trainer.train()
    assert any(line.startswith("teacher: ") and "views made" in line for line in progress)
    assert len(calls) == len(trainer.data.views) <= len(trainer.data)  # one view per photo, painted once
    assert load_model(trainer.config.out).metadata["training"]["teacher"] == "gatys"
    lines = []
    Trainer(_config(tmp_path, photo_folder, steps=8, resume="auto", **settings), log=lines.append,
            teachers={"gatys": factory}).train()
    assert any(f"{len(trainer.data.views)} teacher outputs kept" in line for line in lines)


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_distillation_can_add_the_style_loss_and_keep_its_views_elsewhere(tmp_path, photo_folder):
    """--distill-style-weight adds the Gram loss to the pixel loss; views_dir (a recipe's shared folder) holds the
    teacher's cached views, so another stage distilling from the same teacher finds them."""
    teacher = train(_config(tmp_path, photo_folder, steps=2), log=lambda s: None).path
    shared = tmp_path / "recipe" / "teacher-views"  # made when first needed
    student = dict(teacher=str(teacher), arch_params={"channels": 16}, views_dir=shared, steps=4)
    train(_config(tmp_path, photo_folder, run_dir=tmp_path / "a", out=tmp_path / "out" / "a.safetensors", **student),
          log=lambda s: None)
    assert len(list(shared.glob("distill-views-*.safetensors"))) == 1
    assert not (tmp_path / "a" / "distill-views.safetensors").exists()
    lines = []
    second = Trainer(_config(tmp_path, photo_folder, run_dir=tmp_path / "b", out=tmp_path / "out" / "b.safetensors",
                             distill_style_weight=0.5, log_every=1, **student), log=lines.append)
    assert any("teacher outputs kept" in line for line in lines)
    second.train()
    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert all(entry["style"] > 0 and entry["distill"] > 0 for entry in log)
    assert "views_dir" not in load_model(second.config.out).metadata["training"]
    # A stage taught by another teacher keeps its views in a file of its own, beside the first teacher's.
    train(_config(tmp_path, photo_folder, run_dir=tmp_path / "c", out=tmp_path / "out" / "c.safetensors",
                  **{**student, "teacher": str(second.config.out)}), log=lambda s: None)
    assert len(list(shared.glob("distill-views-*.safetensors"))) == 2
