"""Recipes: every shipped model has one that matches its metadata, and a tiny recipe runs, skips and resumes."""
from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from vidstyle.cli.main import main
from vidstyle.errors import InputError, OutputError
from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.models import full_arch_params, load_model, read_metadata, stored_arch_params
from vidstyle.models.registry import checkout_models_dir
from vidstyle.train import Trainer
from vidstyle.train.recipe import (
    MEDIA_PREFIX,
    PATH_FIELDS,
    RecipeOptions,
    final_architecture,
    load_recipe,
    plan,
    run_recipe,
    stage_config,
    training_chain,
)

MODELS = checkout_models_dir()
RECIPES = sorted((MODELS / "recipes").glob("*.toml"))
SHIPPED = sorted(MODELS.glob("*.safetensors"))
# Training settings a recipe's final stage is not compared on: the limits (a recipe gives the steps the original
# run reached under its time limit), paths and models (compared separately), and how the run was kept.
NOT_COMPARED = {"steps", "max_minutes", "out", "run_dir", "resume", "device", "precision", "threads", "progress",
                "overwrite", "log_every", "checkpoint_every", "preview_every", "style_name", "init", "teacher",
                *PATH_FIELDS}
# Settings added to the trainer after some models were made: absent from their metadata, so the recipe must
# give the value that reproduces how they were trained (grid penalty off, and so on).
ADDED_LATER = {"grid_weight": 0.0, "palette_weight": 0.0, "photo_side": None, "photos": None, "teacher": None, "video_data": None, "distill_style_weight": 0.0,
               "distill_views": 4}
# Knobs of a feature the run does not use, when the metadata predates them: nothing to compare.
UNUSED_WITHOUT = {"distill_weight": "teacher", "distill_views": "teacher", "distill_style_weight": "teacher", "video_pairs": "video_data", "grid_period": "grid_weight"}
MULTISTYLE_ONLY = {"add_styles", "style_reference", "style_lr_factor"}


def _unused(key: str, wanted: dict) -> bool:
    return (key in UNUSED_WITHOUT and not wanted[UNUSED_WITHOUT[key]]) or (
        key in MULTISTYLE_ONLY and wanted["arch"] != "multistyle")


def test_every_shipped_recipe_parses_and_plans(tmp_path):
    assert RECIPES, "models/recipes holds the shipped recipes"
    for path in RECIPES:
        recipe = load_recipe(path)
        assert recipe.name == path.stem and recipe.description
        final_architecture(recipe)
        planned = plan(recipe, RecipeOptions(media=tmp_path, run_dir=tmp_path / "runs" / recipe.name))
        assert planned[-1].recipe.name == recipe.name and all(p.status == "to do" for p in planned)


@pytest.mark.parametrize("model", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_model_has_a_recipe_matching_its_metadata(model, tmp_path):
    recipe_path = MODELS / "recipes" / f"{model.stem}.toml"
    assert recipe_path.is_file(), f"{model.name} has no recipe"
    recipe = load_recipe(recipe_path)
    meta = read_metadata(model)
    arch, params = final_architecture(recipe)
    assert arch == meta["architecture"]
    stored = {k: v for k, v in stored_arch_params(arch, meta["arch_params"]).items() if k != "styles"}
    assert params == full_arch_params(arch, **stored)

    last = plan(recipe, RecipeOptions(media=tmp_path))[-1]
    wanted = stage_config(last, RecipeOptions(media=tmp_path)).to_metadata()
    recorded = meta["training"]
    for key, value in wanted.items():
        if key in NOT_COMPARED or (key not in recorded and _unused(key, wanted)):
            continue
        expected = recorded[key] if key in recorded else ADDED_LATER.get(key, "missing from the metadata")
        if key == "arch_params":  # the trainer records them as given; the network's are compared above
            continue
        assert value == expected, f"{key}: recipe {value!r}, model {expected!r}"
    for key in PATH_FIELDS:  # the same painting, photos and videos under the media folder
        written = last.stage.settings.get(key)
        if written is None or recorded.get(key) is None:
            assert written == recorded.get(key), key
        else:
            tails = [w[len(MEDIA_PREFIX):] for w in (written if isinstance(written, list) else [written])]
            values = recorded[key] if isinstance(recorded[key], list) else [recorded[key]]
            assert len(values) == len(tails), key
            assert all(str(v).replace("\\", "/").rstrip("/").endswith(t) for v, t in zip(values, tails)), key
    for key in ("init", "teacher"):  # continued from an earlier run exactly when the recipe says so
        assert bool(last.stage.settings.get(key)) == bool(recorded.get(key)), key
        if meta.get("recipe") and recorded.get(key):
            assert recorded[key] == last.stage.settings[key], key


@pytest.mark.parametrize("model", sorted(MODELS.glob("*.json")), ids=lambda p: p.stem)
def test_shipped_model_metadata_names_no_machine_path(model):
    def strings(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, str):
            yield value

    for text in strings(json.loads(model.read_text())):
        assert not text.startswith(("/", "~")) and ":\\" not in text, text
        assert "runs/" not in text, text


# -- a tiny recipe on generated media -----------------------------------------------------------------------

TINY = """
[model]
name = "tiny"
description = "a two-stage test recipe"

[defaults]
style = "media:styles/paint.png"
data = "media:train"
size = 32
batch = 2
style_size = 48
warmup_steps = 1
log_every = 1
checkpoint_every = 1
preview_every = 0
precision = "fp32"

[[stage]]
name = "base"
arch_params = { channels = 8, blocks = 1 }
steps = 3
lr = 1e-2

[[stage]]
name = "wide"
kind = "tool"
tool = "widen"
source = "stage:base"
channels = 12

[[stage]]
name = "tune"
init = "stage:wide"
teacher = "stage:base"
steps = 2
lr = LR
"""


@pytest.fixture
def media(tmp_path):
    root = tmp_path / "media"
    (root / "train").mkdir(parents=True)
    (root / "styles").mkdir()
    for i in range(3):
        Image.fromarray(synthetic_scene(48, 56, seed=i)).save(root / "train" / f"p{i}.png")
    Image.fromarray(synthetic_style(48, 48)).save(root / "styles" / "paint.png")
    return root


def _write(tmp_path, lr="5e-3"):
    path = tmp_path / "recipes" / "tiny.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(TINY.replace("LR", lr))
    return path


def test_tiny_recipe_runs_end_to_end_then_skips_finished_stages(tmp_path, media):
    recipe = load_recipe(_write(tmp_path))
    out = tmp_path / "models" / "tiny.safetensors"
    out.parent.mkdir()
    options = RecipeOptions(media=media, run_dir=tmp_path / "runs", out=out, progress=False)
    lines: list[str] = []
    assert run_recipe(recipe, options, log=lines.append) == out
    assert [p.name for p in sorted((tmp_path / "runs").glob("*.safetensors"))] == [
        "base.safetensors", "tune.safetensors", "wide.safetensors"]
    model = load_model(out)
    meta = model.metadata
    assert meta["arch_params"]["channels"] == 12 and meta["steps"] == 2 and meta["recipe"] == "tiny"
    assert (meta["architecture"], full_arch_params("fast", **meta["arch_params"])) == final_architecture(recipe)
    training = meta["training"]
    assert (training["init"], training["teacher"], training["out"], training["run_dir"]) == (
        "stage:wide", "stage:base", "tiny.safetensors", None)
    assert (training["style"], training["data"]) == ("media:styles/paint.png", "media:train")
    assert [h["model"] for h in meta["history"]] == ["tiny/base"] and meta["total_steps"] == 5
    assert json.loads(out.with_suffix(".json").read_text())["recipe"] == "tiny"
    final_stage = load_file(str(tmp_path / "runs" / "tune.safetensors"))
    assert all(torch.equal(v, final_stage[k]) for k, v in load_file(str(out)).items())

    with pytest.raises(OutputError, match="already exists"):  # the output rule: never replaced unasked
        run_recipe(recipe, options, log=lines.append)
    lines.clear()
    options.overwrite = True
    run_recipe(recipe, options, log=lines.append)
    assert sum("done already" in line for line in lines) == 3 and not any("training" in line for line in lines)

    changed = load_recipe(_write(tmp_path, lr="1e-3"))  # a finished stage no longer matches its recipe
    with pytest.raises(InputError, match=r"tune.*other settings \(lr 0.005 -> 0.001\)"):
        run_recipe(changed, options, log=lines.append)


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_interrupted_stage_resumes_from_its_checkpoint(tmp_path, media, monkeypatch):
    recipe = load_recipe(_write(tmp_path))
    options = RecipeOptions(media=media, run_dir=tmp_path / "runs", out=tmp_path / "tiny.safetensors", progress=False)
    first = plan(recipe, options)[0]
    first.output.parent.mkdir()
    trainer = Trainer(stage_config(first, options), log=lambda s: None)
    original, calls = trainer.data.batch, []

    def stop_at_third_step(n):  # what Ctrl-C does between steps
        calls.append(n)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(n)

    monkeypatch.setattr(trainer.data, "batch", stop_at_third_step)
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    assert read_metadata(first.output)["interrupted"] is True
    assert [p.status for p in plan(recipe, options)] == ["resume", "to do", "to do"]
    lines: list[str] = []
    run_recipe(recipe, options, log=lines.append)
    assert any("base: resuming from" in line for line in lines)
    meta = read_metadata(first.output)
    assert meta["steps"] == 3 and "interrupted" not in meta


@pytest.mark.parametrize("change, message", [
    (("[[stage]]\nname = \"base\"", "[[stage]]\nname = \"base\"\nsteps_per_day = 3"), "unknown setting"),
    (("source = \"stage:base\"", "source = \"stage:tune\""), "does not come before it"),
    (("init = \"stage:wide\"", "init = \"runs/wide.safetensors\""), "stage:NAME, recipe:NAME\\[/STAGE\\] or model:NAME"),
    (("tool = \"widen\"", "tool = \"shrink\""), "tool must be one of"),
    (("channels = 12", "width = 12"), "tool widen takes"),
    (("lr = 1e-2", "lr = -1.0"), "--lr"),
    (("style = \"media:styles/paint.png\"", ""), "needs style"),
    (("[model]", "[modle]"), "unknown table"),
    (("name = \"wide\"", "name = \"base\""), "two stages are named 'base'"),
    (("size = 32", "size = [32"), "not valid TOML"),
    (("init = \"stage:wide\"", "init = \"stage:wide\"\narch_params = { channels = 4 }"), "come from the init model"),
])
def test_bad_recipes_are_one_line_input_errors(tmp_path, change, message):
    path = _write(tmp_path)
    path.write_text(path.read_text().replace(*change, 1))
    with pytest.raises(InputError, match=message) as info:
        load_recipe(path)
    assert "\n" not in str(info.value)


def test_recipe_that_builds_on_another_runs_it_first(tmp_path, media):
    _write(tmp_path)
    top = tmp_path / "recipes" / "top.toml"
    top.write_text('[model]\nname = "top"\n\n[[stage]]\nname = "again"\ninit = "recipe:tiny"\nteacher = "recipe:tiny"\n'
                   'style = "media:styles/paint.png"\ndata = "media:train"\nsize = 32\nbatch = 2\nstyle_size = 48\n'
                   'steps = 1\nwarmup_steps = 0\nprecision = "fp32"\npreview_every = 0\n')
    recipe = load_recipe(top)
    options = RecipeOptions(media=media, run_dir=tmp_path / "runs" / "top", out=tmp_path / "top.safetensors",
                            progress=False)
    assert [p.label for p in plan(recipe, options)] == ["tiny/base", "tiny/wide", "tiny/tune", "top/again"]
    run_recipe(recipe, options, log=lambda s: None)
    assert (tmp_path / "runs" / "tiny" / "tune.safetensors").is_file()  # the base recipe's own run folder
    meta = read_metadata(tmp_path / "top.safetensors")
    assert [h["model"] for h in meta["history"]] == ["tiny/base", "tiny/tune"]
    assert meta["training"]["init"] == meta["training"]["teacher"] == "recipe:tiny" and meta["total_steps"] == 6


def test_a_recipe_may_build_on_a_stage_of_another(tmp_path, media):
    """recipe:NAME/STAGE plans that recipe only up to STAGE and follows its chain from there."""
    _write(tmp_path)
    top = tmp_path / "recipes" / "top.toml"
    text = ('[model]\nname = "top"\n\n[[stage]]\nname = "again"\ninit = "recipe:tiny/wide"\n'
            'style = "media:styles/paint.png"\ndata = "media:train"\nsteps = 1\n')
    top.write_text(text)
    recipe = load_recipe(top)
    options = RecipeOptions(media=media, run_dir=tmp_path / "runs" / "top", out=tmp_path / "top.safetensors")
    planned = plan(recipe, options)
    assert [p.label for p in planned] == ["tiny/base", "tiny/wide", "top/again"]
    assert planned[-1].inputs["recipe:tiny/wide"] == str(tmp_path / "runs" / "tiny" / "wide.safetensors")
    assert final_architecture(recipe)[1]["channels"] == 12  # the widened network, not the base's 8
    assert training_chain(recipe) == ["tiny/base", "top/again"]
    top.write_text(text.replace("recipe:tiny/wide", "recipe:tiny/nope"))
    with pytest.raises(InputError, match="no stage"):
        plan(load_recipe(top), options)
    top.write_text(text.replace("recipe:tiny/wide", "model:tiny/wide"))
    with pytest.raises(InputError, match="recipe:NAME"):
        load_recipe(top)


def test_cli_dry_run_lists_the_stages_and_refuses_ignored_options(tmp_path, media, monkeypatch, capsys):
    path = _write(tmp_path)
    monkeypatch.setenv("VIDSTYLE_MEDIA", str(media))
    args = ["train", "--recipe", str(path), "--run-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "t.safetensors")]
    assert main([*args, "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "1. tiny/base [to do]" in text and "tool widen on stage:base: channels 12" in text
    assert not (tmp_path / "runs").exists()
    assert main([*args, "--steps", "5"]) == 2
    assert "--steps: --recipe takes the training settings from the recipe file" in capsys.readouterr().err
    assert main(["train", "--recipe", str(tmp_path / "absent.toml")]) == 2
    assert "recipe not found" in capsys.readouterr().err
    assert main(["train", "--style", str(media / "styles" / "paint.png")]) == 2
    assert "--data, --out required (or --recipe FILE)" in capsys.readouterr().err


def test_time_limited_stage_counts_as_done_when_the_recipe_gives_the_steps_it_reached(tmp_path, media):
    # A recipe records the steps a time-limited run reached (no max_minutes), so that a rebuild does not depend
    # on the machine's speed: the original output, made with a time limit, is that stage finished.
    limited = _write(tmp_path).read_text().replace("steps = 3\n", "steps = 3\nmax_minutes = 30.0\n", 1)
    recipe_path = tmp_path / "recipes" / "tiny.toml"
    recipe_path.write_text(limited)
    options = RecipeOptions(media=media, run_dir=tmp_path / "runs", out=tmp_path / "tiny.safetensors",
                            progress=False)
    first = plan(load_recipe(recipe_path), options)[0]
    first.output.parent.mkdir()
    Trainer(stage_config(first, options), log=lambda s: None).train()
    assert read_metadata(first.output)["training"]["max_minutes"] == 30.0

    recipe_path.write_text(limited.replace("max_minutes = 30.0\n", ""))
    assert plan(load_recipe(recipe_path), options)[0].status == "done"
    recipe_path.write_text(limited.replace("max_minutes = 30.0\n", "").replace("steps = 3\n", "steps = 4\n", 1))
    assert plan(load_recipe(recipe_path), options)[0].status.startswith("stale")


def test_a_stage_may_name_an_optimisation_teacher(tmp_path, media):
    text = _write(tmp_path).read_text().replace('teacher = "stage:base"', 'teacher = "gatys"\ndistill_views = 1')
    path = tmp_path / "recipes" / "tiny.toml"
    path.write_text(text)
    recipe = load_recipe(path)
    assert recipe.stage("tune").input_references() == ["stage:wide"]
    options = RecipeOptions(media=media, run_dir=tmp_path / "runs", out=tmp_path / "tiny.safetensors", progress=False)
    tune = plan(recipe, options)[-1]
    config = stage_config(tune, options)
    assert (config.teacher, config.distill_views) == ("gatys", 1)


def test_a_multistyle_stage_may_name_one_teacher_per_painting(tmp_path, media):
    text = _write(tmp_path).read_text() + '''
[[stage]]
name = "zoo"
arch = "multistyle"
teacher = ["stage:base", "stage:tune"]
steps = 2
'''
    path = tmp_path / "recipes" / "tiny.toml"
    path.write_text(text)
    recipe = load_recipe(path)
    assert recipe.stage("zoo").input_references() == ["stage:base", "stage:tune"]
    options = RecipeOptions(media=media, run_dir=tmp_path / "runs", out=tmp_path / "tiny.safetensors", progress=False)
    config = stage_config(plan(recipe, options)[-1], options)
    assert config.teacher == [str(tmp_path / "runs" / "base.safetensors"), str(tmp_path / "runs" / "tune.safetensors")]
    path.write_text(text.replace('["stage:base", "stage:tune"]', '["stage:base", "stage:later"]'))
    with pytest.raises(InputError, match="does not come before it"):
        load_recipe(path)


def test_a_tool_on_a_finished_model_keeps_that_models_runs_under_its_name(tmp_path, media, monkeypatch):
    """A recipe that starts from another model with a tool stage: the source's own last run is recorded under
    the source's name, not under the tool's output file."""
    models = tmp_path / "models"
    models.mkdir()
    base = models / "tiny.safetensors"
    run_recipe(load_recipe(_write(tmp_path)), RecipeOptions(media=media, run_dir=tmp_path / "runs", out=base,
                                                            progress=False), log=lambda _: None)
    monkeypatch.setenv("VIDSTYLE_MODELS", str(models))
    follow_up = tmp_path / "recipes" / "wider.toml"
    follow_up.write_text(TINY.split("[[stage]]")[0].replace('name = "tiny"', 'name = "wider"') + """
[[stage]]
name = "wide"
kind = "tool"
tool = "widen"
source = "model:tiny"
channels = 16

[[stage]]
name = "tune"
init = "stage:wide"
steps = 1
lr = 1e-3
""")
    out = models / "wider.safetensors"
    run_recipe(load_recipe(follow_up), RecipeOptions(media=media, run_dir=tmp_path / "runs2", out=out,
                                                     progress=False), log=lambda _: None)
    meta = load_model(out).metadata
    assert [h["model"] for h in meta["history"]] == ["tiny/base", "tiny"]
    assert [h["steps"] for h in meta["history"]] == [3, 2] and meta["total_steps"] == 6
