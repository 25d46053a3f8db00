"""Recipes: a model's whole training chain in one declarative file, run by ``vidstyle train --recipe FILE``.

A recipe is a TOML file (the shipped ones are ``models/recipes/NAME.toml``)::

    [model]
    name = "great_wave-fast-painted"    # the model it makes: models/NAME.safetensors by default
    description = "..."

    [defaults]                          # optional: settings every training stage gets unless it sets them
    style = "media:styles/great_wave.jpg"
    data = "media:train"

    [[stage]]                           # stages run in order; each writes RUN_DIR/NAME.safetensors
    name = "scratch"
    arch = "fast"
    steps = 124                         # any TrainConfig field (vidstyle.train.config)

    [[stage]]
    name = "continue"
    init = "stage:scratch"              # start from an earlier stage's output
    steps = 2039

    [[stage]]                           # network surgery (vidstyle.train.surgery) instead of training
    name = "wide"
    kind = "tool"
    tool = "widen"                      # widen | project_first | drop_blocks | full_res_head | head_blur | drop_head
    source = "stage:continue"
    channels = 64

Paths: ``media:REL`` lies in the media folder (``$VIDSTYLE_MEDIA``, else ``../shared/media`` beside the
repository, i.e. from the folder the command runs in); other relative paths are relative to the recipe's
folder. ``init``, ``teacher`` and a tool's ``source`` name a model: ``stage:NAME`` (an earlier stage),
``recipe:NAME`` (the final output of the recipe ``NAME.toml`` beside this one, built first in its own run
folder ``RUN_DIR/../NAME`` unless already built), ``recipe:NAME/STAGE`` (that recipe's stage ``STAGE``, built
up to it) or ``model:NAME`` (an installed model, by registry name).

Running: each stage's output is ``RUN_DIR/STAGE.safetensors`` and its logs, previews and checkpoint go to
``RUN_DIR/STAGE/``. A finished stage is skipped (an error if its recorded settings no longer match the
recipe, or if it is older than its input); an interrupted one resumes from its checkpoint. The last stage's
model is copied to the output with its metadata made machine-neutral (paths as the recipe writes them).
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
import os
import re
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from vidstyle.errors import InputError, ModelError
from vidstyle.models import full_arch_params, read_metadata, save_model, stored_arch_params
from vidstyle.models.files import check_model_output, load_model_file
from vidstyle.models.registry import find_model, load_model, package_models_dir
from vidstyle.train.config import OPTIMISATION_TEACHERS, TrainConfig
from vidstyle.train.surgery import SURGERIES, TOOL_ARCHITECTURES, resulting_params
from vidstyle.train.trainer import TeacherFactory, train, training_history

MEDIA_ENV = "VIDSTYLE_MEDIA"
MEDIA_PREFIX = "media:"
REFERENCE_KINDS = ("stage", "recipe", "model")
PATH_FIELDS = ("style", "data", "video_data")
REFERENCE_FIELDS = ("init", "teacher")
# Set by the runner for every stage; a recipe cannot set them.
RUNNER_FIELDS = ("out", "run_dir", "views_dir", "resume", "overwrite", "progress")
# How a stage runs on this machine, not what it learns: a recipe may set them, the command line overrides them.
MACHINE_FIELDS = ("device", "precision", "threads")
# What a finished stage's recorded settings are not compared on (paths and models differ between machines and
# run folders; logging cadence does not change the weights).
UNCOMPARED_FIELDS = (*RUNNER_FIELDS, *MACHINE_FIELDS, *PATH_FIELDS, *REFERENCE_FIELDS, "log_every",
                     "checkpoint_every", "preview_every", "style_name")
TRAIN_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in RUNNER_FIELDS)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Stage:
    """One step of a recipe: training (``settings`` are TrainConfig fields as written, defaults merged in) or a
    tool (``settings`` are the surgery's options, ``source`` the model it works on)."""

    name: str
    kind: str  # "train" | "tool"
    settings: dict[str, Any]
    tool: Optional[str] = None
    source: Optional[str] = None

    def input_references(self) -> list[str]:
        """The model references this stage reads (init, teacher or source), as written."""
        if self.kind == "tool":
            return [self.source] if self.source else []
        return [ref for k in REFERENCE_FIELDS for ref in _as_list(self.settings.get(k))
                if ref and ref not in OPTIMISATION_TEACHERS]

    def predecessor(self) -> Optional[str]:
        """The reference whose weights this stage continues (init, or a tool's source); None from scratch."""
        return self.source if self.kind == "tool" else self.settings.get("init")


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    path: Path
    stages: tuple[Stage, ...]

    def stage(self, name: str) -> Stage:
        found = next((s for s in self.stages if s.name == name), None)
        if found is None:
            raise InputError(f"{self.path}: no stage {name!r} (it has {', '.join(s.name for s in self.stages)})")
        return found


@dataclass
class RecipeOptions:
    """How to run a recipe. ``media``: the media folder (see :func:`media_root`); ``run_dir``: where the stages
    go (default ``runs/recipes/NAME``); ``out``: the final model (default ``models/NAME.safetensors``), replaced
    only with ``overwrite``; ``machine``: device/precision/threads overriding the recipe's; ``teachers``: the
    optimisation teachers a stage may name (``teacher = "gatys"``, see :class:`vidstyle.train.Trainer`)."""

    media: Path
    run_dir: Optional[Path] = None
    out: Optional[Path] = None
    overwrite: bool = False
    progress: bool = True
    machine: dict[str, Any] = field(default_factory=dict)
    teachers: dict[str, TeacherFactory] = field(default_factory=dict)

    def run_folder(self, recipe: Recipe) -> Path:
        return Path(self.run_dir) if self.run_dir else Path("runs") / "recipes" / recipe.name

    def output(self, recipe: Recipe) -> Path:
        return Path(self.out) if self.out else Path("models") / f"{recipe.name}.safetensors"


@dataclass
class PlannedStage:
    """A stage placed in a run: where its output goes, what its references resolve to, and its state now
    (``done``, ``resume``, ``to do`` or ``stale: why``)."""

    recipe: Recipe
    stage: Stage
    output: Path
    run_folder: Path
    inputs: dict[str, str]  # reference as written -> model path (or registry name)
    status: str = "to do"

    @property
    def label(self) -> str:
        return f"{self.recipe.name}/{self.stage.name}"


# -- reading ------------------------------------------------------------------------------------------------


def media_root(environ: Optional[dict[str, str]] = None) -> Path:
    """The media folder: ``$VIDSTYLE_MEDIA``, else ``../shared/media`` (beside the repository when run from its
    root)."""
    value = (os.environ if environ is None else environ).get(MEDIA_ENV)
    return Path(value) if value else Path("..") / "shared" / "media"


def find_recipe(name_or_path: str | os.PathLike) -> Path:
    """A recipe file by path, or by model name among the shipped recipes (``models/recipes/NAME.toml``)."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    shipped = package_models_dir() / "recipes" / f"{name_or_path}.toml"
    if path.suffix != ".toml" and os.sep not in str(name_or_path) and shipped.is_file():
        return shipped
    raise InputError(f"recipe not found: {name_or_path}")


def load_recipe(path: str | os.PathLike) -> Recipe:
    """Parse and check a recipe file. Raises InputError naming the file and stage for anything a run would
    trip over later: unknown keys, bad values (as ``vidstyle train`` checks them), references to stages that
    do not come earlier, tools that do not exist."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"cannot read recipe {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"model", "defaults", "stage"})
    if unknown:
        raise InputError(f"{path}: unknown table(s) {unknown}; a recipe has [model], [defaults] and [[stage]]")
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str) or not _NAME.match(model["name"]):
        raise InputError(f"{path}: [model] needs a name (letters, digits, '_', '-', '.')")
    extra = sorted(set(model) - {"name", "description"})
    if extra:
        raise InputError(f"{path}: unknown [model] key(s) {extra}")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InputError(f"{path}: [defaults] must be a table")
    _check_train_keys(path, "[defaults]", defaults)
    raw_stages = data.get("stage")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise InputError(f"{path}: no [[stage]] tables")
    stages: list[Stage] = []
    for raw in raw_stages:
        stages.append(_parse_stage(path, raw, defaults, [s.name for s in stages]))
    return Recipe(model["name"], str(model.get("description", "")), path, tuple(stages))


def _parse_stage(path: Path, raw: dict[str, Any], defaults: dict[str, Any], earlier: list[str]) -> Stage:
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"{path}: stage {len(earlier) + 1} needs a name (letters, digits, '_', '-', '.')")
    where = f"stage {name}"
    if name in earlier:
        raise InputError(f"{path}: two stages are named {name!r}")
    kind = raw.get("kind", "train")
    settings = {k: v for k, v in raw.items() if k not in ("name", "kind")}
    if kind == "tool":
        tool, source = settings.pop("tool", None), settings.pop("source", None)
        if tool not in SURGERIES:
            raise InputError(f"{path}: {where}: tool must be one of {sorted(SURGERIES)}, got {tool!r}")
        _check_reference(path, where, "source", source, earlier, required=True)
        accepted = list(inspect.signature(SURGERIES[tool]).parameters)[2:]
        required = [p.name for p in inspect.signature(SURGERIES[tool]).parameters.values()
                    if p.name in accepted and p.default is inspect.Parameter.empty]
        wrong = sorted(set(settings) - set(accepted))
        missing = [k for k in required if k not in settings]
        if wrong or missing:
            raise InputError(f"{path}: {where}: tool {tool} takes {accepted or 'no options'}"
                             + (f"; unknown {wrong}" if wrong else "") + (f"; missing {missing}" if missing else ""))
        return Stage(name, "tool", settings, tool=tool, source=source)
    if kind != "train":
        raise InputError(f"{path}: {where}: kind must be train or tool, got {kind!r}")
    _check_train_keys(path, where, settings)
    settings = {**defaults, **settings}
    for key in ("style", "data"):
        if key not in settings:
            raise InputError(f"{path}: {where} needs {key} (in the stage or in [defaults])")
    for key in REFERENCE_FIELDS:
        value = settings.get(key)
        many = key == "teacher" and isinstance(value, list) and value  # one teacher per painting (multistyle)
        for one in (value if many else [value]):
            _check_reference(path, where, key, one, earlier)
    if settings.get("init") and settings.get("arch_params"):
        raise InputError(f"{path}: {where}: arch_params come from the init model; leave them out")
    try:
        _config(settings, {k: Path(MEDIA_PREFIX) for k in PATH_FIELDS if settings.get(k) is not None}, {},
                Path("check.safetensors"), None)
    except InputError as exc:
        raise InputError(f"{path}: {where}: {exc}") from None
    return Stage(name, "train", settings)


def _check_train_keys(path: Path, where: str, settings: dict[str, Any]) -> None:
    unknown = sorted(set(settings) - set(TRAIN_FIELDS))
    if unknown:
        runner = [k for k in unknown if k in RUNNER_FIELDS]
        hint = (f" ({', '.join(runner)}: set by the runner, see `vidstyle train --help`)" if runner
                else f"; settings are vidstyle train's options: {', '.join(TRAIN_FIELDS)}")
        raise InputError(f"{path}: {where}: unknown setting(s) {unknown}{hint}")
    for key in PATH_FIELDS:
        value = settings.get(key)
        ok = value is None or isinstance(value, str) or (
            key == "style" and isinstance(value, list) and value and all(isinstance(v, str) for v in value))
        if not ok:
            raise InputError(f"{path}: {where}: {key} must be a path such as \"media:train\", got {value!r}")


def _check_reference(path: Path, where: str, key: str, value: Any, earlier: list[str], required: bool = False) -> None:
    if (value is None and not required) or (key == "teacher" and value in OPTIMISATION_TEACHERS):
        return
    kind, _, name = str(value).partition(":") if isinstance(value, str) else ("", "", "")
    if kind not in REFERENCE_KINDS or not name or (kind != "recipe" and "/" in name):
        raise InputError(f"{path}: {where}: {key} must be stage:NAME, recipe:NAME[/STAGE] or model:NAME, got {value!r}")
    if kind == "stage" and name not in earlier:
        raise InputError(f"{path}: {where}: {key} names stage {name!r}, which does not come before it")


# -- planning -----------------------------------------------------------------------------------------------


def plan(recipe: Recipe, options: RecipeOptions) -> list[PlannedStage]:
    """Every stage to run for ``recipe``, in order, with recipes it builds on (``recipe:NAME``) placed before the
    stage that needs them, each with its output path, resolved references and status."""
    planned: list[PlannedStage] = []
    _plan(recipe, options.run_folder(recipe), options, planned, {}, [])
    return planned


def _split_recipe_reference(name: str) -> tuple[str, Optional[str]]:
    """``NAME`` or ``NAME/STAGE`` of a ``recipe:`` reference -> (recipe name, stage or None for its last)."""
    recipe_name, _, stage = name.partition("/")
    return recipe_name, stage or None


def _plan(recipe: Recipe, run_dir: Path, options: RecipeOptions, planned: list[PlannedStage],
          built: dict[str, dict[str, Path]], visiting: list[str], upto: Optional[str] = None) -> dict[str, Path]:
    """Append ``recipe``'s stages (up to and including ``upto``, default all) to ``planned``; returns the output
    path of each stage planned, by stage name."""
    visiting = visiting + [recipe.name]
    outputs: dict[str, Path] = {}
    if upto is not None:
        recipe.stage(upto)  # an InputError for a stage the recipe does not have
    for stage in recipe.stages:
        inputs = {}
        for ref in stage.input_references():
            kind, _, name = ref.partition(":")
            if kind == "stage":
                inputs[ref] = str(outputs[name])
            elif kind == "model":
                inputs[ref] = str(find_model(name))
            else:
                name, sub_stage = _split_recipe_reference(name)
                if name in visiting:
                    raise InputError(f"{recipe.path}: recipes build on each other in a circle: "
                                     f"{' -> '.join(visiting + [name])}")
                if name not in built:
                    sub = load_recipe(recipe.path.parent / f"{name}.toml") if (
                        recipe.path.parent / f"{name}.toml").is_file() else None
                    if sub is None:
                        raise InputError(f"{recipe.path}: stage {stage.name}: no recipe {name}.toml beside it")
                    built[name] = _plan(sub, run_dir.parent / name, options, planned, built, visiting, sub_stage)
                    if sub_stage is None:  # planned in full: its final output
                        built[name][""] = built[name][sub.stages[-1].name]
                wanted = sub_stage or ""
                if wanted not in built[name]:
                    raise InputError(f"{recipe.path}: stage {stage.name}: {ref} needs more of recipe {name} than "
                                     "an earlier reference planned; name its later stage first")
                inputs[ref] = str(built[name][wanted])
        output = run_dir / f"{stage.name}.safetensors"
        outputs[stage.name] = output
        item = PlannedStage(recipe, stage, output, run_dir / stage.name, inputs)
        item.status = _status(item, options)
        unbuilt = [p for p in planned if str(p.output) in inputs.values() and p.status != "done"]
        if item.status == "done" and unbuilt:
            item.status = f"stale: its input {unbuilt[0].output} is not built yet"
        planned.append(item)
        if stage.name == upto:
            break
    return outputs


def _status(item: PlannedStage, options: RecipeOptions) -> str:
    if item.output.is_file():
        try:
            meta = read_metadata(item.output)
        except ModelError as exc:
            return f"stale: {exc}"
        if meta.get("interrupted"):
            return "resume"
        for ref, path in item.inputs.items():
            if not ref.startswith("model:") and Path(path).is_file() and \
                    Path(path).stat().st_mtime > item.output.stat().st_mtime:
                return f"stale: older than its input {path}"
        changed = _changed_settings(item, meta, options)
        return f"stale: made with other settings ({changed})" if changed else "done"
    return "resume" if (item.run_folder / "checkpoint.safetensors").is_file() else "to do"


def _changed_settings(item: PlannedStage, meta: dict[str, Any], options: RecipeOptions) -> str:
    stage = item.stage
    if stage.kind == "tool":
        want = {"tool": stage.tool, **stage.settings}
        return "" if meta.get("recipe_tool") == want else f"tool {meta.get('recipe_tool')} -> {want}"
    recorded = meta.get("training") or {}
    wanted = stage_config(item, options).to_metadata()
    ignored = set(UNCOMPARED_FIELDS)
    if meta.get("steps") == wanted.get("steps") and not wanted.get("max_minutes"):
        # A run stopped by its time limit at exactly the recipe's step count: recipes record the steps a run
        # reached, so that a rebuild does not depend on the machine's speed.
        ignored.update(("steps", "max_minutes"))
    # Settings a newer trainer added are not in older outputs: only the recorded ones are compared.
    diffs = [f"{k} {recorded[k]!r} -> {v!r}" for k, v in wanted.items()
             if k not in ignored and k in recorded and recorded[k] != v]
    return ", ".join(diffs)


def stage_config(item: PlannedStage, options: RecipeOptions) -> TrainConfig:
    """The TrainConfig a training stage runs with (media and references resolved, resumed when interrupted)."""
    settings = item.stage.settings
    paths = {k: _resolve_path(settings[k], item.recipe.path.parent, options.media)
             for k in PATH_FIELDS if settings.get(k) is not None}
    refs = {k: [item.inputs[ref] for ref in settings[k]] if isinstance(settings[k], list)
            else settings[k] if settings[k] in OPTIMISATION_TEACHERS else item.inputs[settings[k]]
            for k in REFERENCE_FIELDS if settings.get(k)}
    resume = "auto" if (item.run_folder / "checkpoint.safetensors").is_file() and item.status == "resume" else None
    config = _config(settings, paths, refs, item.output, item.run_folder, resume=resume,
                     machine=options.machine, progress=options.progress)
    return config


def _config(settings: dict[str, Any], paths: dict[str, Any], refs: dict[str, str], out: Path,
            run_folder: Optional[Path], resume: Optional[str] = None, machine: Optional[dict[str, Any]] = None,
            progress: bool = True) -> TrainConfig:
    fields = {k: v for k, v in settings.items() if k not in PATH_FIELDS and k not in REFERENCE_FIELDS}
    fields.update({k: v for k, v in (machine or {}).items() if v is not None})
    for key in ("style_layers", "content_layers"):
        if key in fields:
            fields[key] = tuple(fields[key])
    return TrainConfig(**fields, **{k: paths[k] for k in PATH_FIELDS if k in paths}, **refs, out=out,
                       run_dir=run_folder, resume=resume, overwrite=True, progress=progress,
                       views_dir=run_folder.parent / "teacher-views" if run_folder else None)


def _resolve_path(value: Any, base: Path, media: Path) -> Any:
    if isinstance(value, list):
        return [_resolve_path(v, base, media) for v in value]
    if value.startswith(MEDIA_PREFIX):
        return media / value[len(MEDIA_PREFIX):]
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


# -- what a recipe makes, without running it ----------------------------------------------------------------


def final_architecture(recipe: Recipe, stage: Optional[str] = None) -> tuple[str, dict[str, Any]]:
    """(architecture, full constructor parameters) of the network ``stage`` (default: the last) makes, followed
    through init/source references without training anything. A multistyle network's ``styles`` (the
    paintings found in the media folder at run time) are left out."""
    item = recipe.stage(stage) if stage else recipe.stages[-1]
    ref = item.predecessor()
    if item.kind == "tool":
        arch, params = _architecture_of(recipe, ref)
        return arch, full_arch_params(arch, **resulting_params(item.tool, params, item.settings))
    arch = item.settings.get("arch", TrainConfig.arch)
    if ref:
        init_arch, params = _architecture_of(recipe, ref)
        if init_arch != arch:
            raise InputError(f"{recipe.path}: stage {item.name} trains a {arch} network from a {init_arch} one")
        return arch, params
    params = {k: v for k, v in item.settings.get("arch_params", {}).items() if k != "styles"}
    return arch, full_arch_params(arch, **params)


def _architecture_of(recipe: Recipe, ref: str) -> tuple[str, dict[str, Any]]:
    kind, _, name = ref.partition(":")
    if kind == "stage":
        return final_architecture(recipe, name)
    if kind == "recipe":
        name, stage = _split_recipe_reference(name)
        return final_architecture(load_recipe(recipe.path.parent / f"{name}.toml"), stage)
    meta = read_metadata(find_model(name))
    arch = meta["architecture"]
    params = {k: v for k, v in stored_arch_params(arch, meta["arch_params"]).items() if k != "styles"}
    return arch, full_arch_params(arch, **params)


def training_chain(recipe: Recipe, stage: Optional[str] = None) -> list[str]:
    """``RECIPE/STAGE`` labels of the training stages whose weights lead to ``stage`` (default: the last),
    oldest first, followed through init and tool sources (tools are not runs: they are left out). A chain
    that starts from ``model:NAME`` starts after that model."""
    item = recipe.stage(stage) if stage else recipe.stages[-1]
    ref = item.predecessor()
    before: list[str] = []
    if ref:
        kind, _, name = ref.partition(":")
        if kind == "stage":
            before = training_chain(recipe, name)
        elif kind == "recipe":
            name, stage = _split_recipe_reference(name)
            before = training_chain(load_recipe(recipe.path.parent / f"{name}.toml"), stage)
    return before + ([f"{recipe.name}/{item.name}"] if item.kind == "train" else [])


def neutral_metadata(meta: dict[str, Any], recipe: Recipe, out_name: str) -> dict[str, Any]:
    """``meta`` of the recipe's final model with nothing machine-specific in it: paths and references in
    ``training`` as the recipe writes them (``media:...``, ``stage:NAME``), ``out`` the model file's name, no run
    folder; earlier runs in ``history`` named ``RECIPE/STAGE``; ``recipe`` the recipe's name."""
    meta = copy.deepcopy(meta)
    last = recipe.stages[-1]
    training = meta.get("training")
    if last.kind == "train" and isinstance(training, dict):
        for key in (*PATH_FIELDS, *REFERENCE_FIELDS):
            if key in training or last.settings.get(key) is not None:
                training[key] = last.settings.get(key)
        training.update(out=out_name, run_dir=None, resume=None)
    history = meta.get("history") or []
    earlier = training_chain(recipe)[:-1]
    if earlier and len(earlier) <= len(history):
        for entry, label in zip(history[len(history) - len(earlier):], earlier):
            entry["model"] = label
    meta["recipe"] = recipe.name
    return meta


# -- running ------------------------------------------------------------------------------------------------


def describe(planned: list[PlannedStage]) -> str:
    """The plan as text: one line per stage (label, status, output) and its settings beyond the defaults."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    lines = []
    for i, item in enumerate(planned, 1):
        stage = item.stage
        lines.append(f"{i}. {item.label} [{item.status}] -> {item.output}")
        if stage.kind == "tool":
            opts = ", ".join(f"{k} {v}" for k, v in stage.settings.items())
            lines.append(f"   tool {stage.tool} on {stage.source}" + (f": {opts}" if opts else ""))
            continue
        shown = {k: v for k, v in stage.settings.items()
                 if k in PATH_FIELDS or k in REFERENCE_FIELDS or k == "arch" or v != defaults.get(k)}
        lines.append("   " + ", ".join(f"{k} {_text(v)}" for k, v in shown.items()))
    return "\n".join(lines)


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_recipe(recipe: Recipe, options: RecipeOptions, log: Callable[[str], None] = print) -> Path:
    """Run every stage of ``recipe`` that is not done yet and write the final model to the output.

    Checks first, before any training: the output (refused if it exists without ``overwrite``), stale stages
    and the media every remaining stage reads. Ctrl-C stops the current stage with its checkpoint saved; the
    same call later resumes it. Returns the output path.
    """
    out = options.output(recipe)
    planned = plan(recipe, options)
    check_model_output(out, tuple(item.output for item in planned), options.overwrite)
    stale = [item for item in planned if item.status.startswith("stale")]
    if stale:
        item = stale[0]
        raise InputError(f"stage {item.label}: {item.output} is {item.status[len('stale: '):]}; delete it and "
                         f"{item.run_folder} to train it again, or use another --run-dir")
    for item in planned:
        if item.stage.kind == "train" and item.status != "done":
            config = stage_config(item, options)
            for key in PATH_FIELDS:
                for path in _as_list(getattr(config, key)):
                    if not Path(path).exists():
                        raise InputError(f"stage {item.label}: {key} not found: {path}"
                                         + (f" (the media folder is ${MEDIA_ENV} or ../shared/media)"
                                            if str(item.stage.settings.get(key, "")).startswith(MEDIA_PREFIX) else ""))
    for i, item in enumerate(planned, 1):
        head = f"[{i}/{len(planned)}] {item.label}"
        if item.status == "done":
            log(f"{head}: done already ({item.output}), skipped")
            continue
        started = time.perf_counter()
        item.output.parent.mkdir(parents=True, exist_ok=True)
        try:
            if item.stage.kind == "tool":
                log(f"{head}: {item.stage.tool} on {item.stage.source}")
                _run_tool(item)
                log(f"{head}: wrote {item.output}")
            else:
                config = stage_config(item, options)
                what = f"resuming from {item.run_folder / 'checkpoint.safetensors'}" if config.resume else "training"
                limit = f"{config.steps} steps" + (f" or {config.max_minutes:g} min" if config.max_minutes else "")
                start = f" from {item.stage.settings['init']}" if item.stage.settings.get("init") else ""
                log(f"{head}: {what}{start}, {limit} at {config.size} px -> {item.output}")
                result = train(config, log=log, teachers=options.teachers)
                minutes = (time.perf_counter() - started) / 60
                log(f"{head}: done, {result.steps} steps in {minutes:.1f} min")
        except KeyboardInterrupt:
            log(f"{head}: interrupted; run the same command again to resume it")
            raise
    final = planned[-1]  # a recipe's own last stage always comes last (recipes it builds on come earlier)
    model = load_model_file(final.output)
    meta = neutral_metadata(model.metadata, recipe, out.name)
    save_model(out, model.network, meta, overwrite=options.overwrite, inputs=(final.output,))
    log(f"saved {out} (recipe {recipe.name}, {len(planned)} stage(s))")
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _run_tool(item: PlannedStage) -> None:
    stage = item.stage
    source = load_model(item.inputs[stage.source])
    meta = dict(source.metadata)
    arch = TOOL_ARCHITECTURES.get(stage.tool, "fast")
    if meta["architecture"] != arch:
        raise InputError(f"stage {item.label}: {stage.tool} works on {arch} networks; {stage.source} is "
                         f"{meta['architecture']}")
    params = stored_arch_params(arch, meta["arch_params"])
    network, params = SURGERIES[stage.tool](source.network, params, **stage.settings)
    # No run made this network: the source's last run joins the history under the source's name.
    meta.update(history=training_history(meta, source.name), steps=0, train_wall_time_s=0.0)
    meta.update(arch_params=params, recipe_tool={"tool": stage.tool, **stage.settings},
                converted_from=f"{source.name}, {stage.tool}" + "".join(f" {k}={v}" for k, v in stage.settings.items()))
    meta.pop("interrupted", None)
    save_model(item.output, network, meta, overwrite=True, inputs=(source.path,))
