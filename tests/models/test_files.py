"""Model files: bit-exact round trips, metadata, and refusal of pickles, truncated and foreign files."""
from __future__ import annotations

import json
import pickle
import struct

import pytest
import torch

from vidstyle.errors import ModelError
from vidstyle.models import build_network, full_arch_params, list_models, load_model, read_metadata, save_model


def _save(tmp_path, arch="fast", name="toy-fast"):
    torch.manual_seed(3)
    params = full_arch_params(arch)
    net = build_network(arch, **params)
    meta = {"architecture": arch, "arch_params": params, "style_name": "toy", "steps": 7, "losses": {"style": 1.5}}
    path = save_model(tmp_path / f"{name}.safetensors", net, meta)
    return net, meta, path


@pytest.mark.parametrize("arch", ["fast", "quality"])
def test_round_trip_is_bit_exact_with_metadata(tmp_path, arch):
    net, meta, path = _save(tmp_path, arch, f"toy-{arch}")
    loaded = load_model(path)
    for k, v in net.state_dict().items():
        if v.is_floating_point():
            assert torch.equal(v, loaded.network.state_dict()[k]), k
    for k, v in meta.items():
        assert loaded.metadata[k] == v
    assert loaded.metadata["vidstyle_version"]
    assert loaded.name == f"toy-{arch}"
    # sibling JSON holds the same metadata
    assert json.loads(path.with_suffix(".json").read_text()) == loaded.metadata
    x = torch.rand(1, 3, 21, 30)
    with torch.no_grad():
        assert torch.equal(net.eval()(x), loaded.network(x))
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir()), "temporary files left behind"


class _Payload:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_renamed_safetensors_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil-fast.safetensors"
    evil.write_bytes(pickle.dumps({"weights": _Payload(marker)}))
    # sanity: the payload really would create the marker if unpickled
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Payload(probe))).close()
    assert probe.exists()
    with pytest.raises(ModelError, match="pickle"):
        load_model(evil)
    assert not marker.exists()


def test_torch_save_checkpoint_renamed_is_refused(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    torch.save(build_network("fast").state_dict(), path)
    with pytest.raises(ModelError, match="pickle"):
        load_model(path)


def test_truncated_file_is_refused(tmp_path):
    _, _, path = _save(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated"):
        load_model(path)
    path.write_bytes(data[:5])
    with pytest.raises(ModelError, match="truncated"):
        load_model(path)


def test_corrupt_header_and_foreign_files_are_refused(tmp_path):
    _, _, path = _save(tmp_path)
    data = bytearray(path.read_bytes())
    data[8:12] = b"\xff\xfe!!"
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="corrupt"):
        load_model(bad)
    text = tmp_path / "notes.safetensors"
    text.write_text("this is not a model at all, just some text")
    with pytest.raises(ModelError):
        load_model(text)
    # a valid safetensors file with no vidstyle metadata (someone else's model)
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign))
    with pytest.raises(ModelError, match="foreign"):
        load_model(foreign)


def test_mismatched_weights_are_refused(tmp_path):
    net, meta, path = _save(tmp_path)
    meta = read_metadata(path)
    meta["arch_params"]["channels"] = 32
    from safetensors.torch import save_file

    other = tmp_path / "wrong.safetensors"
    save_file({k: v for k, v in net.state_dict().items() if v.is_floating_point()}, str(other),
              metadata={"vidstyle": json.dumps(meta)})
    with pytest.raises(ModelError, match="shape|match"):
        load_model(other)


def test_missing_model_name_lists_what_exists(tmp_path, monkeypatch):
    _save(tmp_path, name="mine-fast")
    monkeypatch.setenv("VIDSTYLE_MODELS", str(tmp_path))
    assert "mine-fast" in [m.name for m in list_models()]
    assert load_model("mine-fast").path == tmp_path / "mine-fast.safetensors"
    with pytest.raises(ModelError, match="no model named 'nope'.*mine-fast"):
        load_model("nope")
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "absent.safetensors")


def test_user_data_folder_is_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    folder = tmp_path / "vidstyle" / "models"
    folder.mkdir(parents=True)
    _save(folder, name="userstyle-fast")
    assert load_model("userstyle-fast").path == folder / "userstyle-fast.safetensors"


def test_header_length_starting_with_the_pickle_byte_still_loads(tmp_path):
    """A real regression: a trained model whose safetensors header length began with 0x80 was refused as a pickle."""
    net = build_network("fast")
    for pad in range(300):
        path = tmp_path / f"m{pad}.safetensors"
        save_model(path, net, {"architecture": "fast", "arch_params": full_arch_params("fast"), "pad": "x" * pad})
        if path.read_bytes()[:1] == b"\x80":
            break
    else:
        pytest.fail("could not produce a header length whose first byte is 0x80")
    loaded = load_model(path)
    assert loaded.metadata["pad"] == "x" * pad


def test_saved_model_gets_the_usual_file_mode(tmp_path):
    # safetensors writes private 0600 files; a model shared on a machine must be readable like any output
    import os

    from vidstyle.utils.files import _DEFAULT_FILE_MODE

    _, _, path = _save(tmp_path)
    assert path.stat().st_mode & 0o777 == _DEFAULT_FILE_MODE
    assert path.with_suffix(".json").stat().st_mode & 0o777 == _DEFAULT_FILE_MODE
    mask = os.umask(0)
    os.umask(mask)
    assert _DEFAULT_FILE_MODE == 0o666 & ~mask


def test_wheel_installed_zoo_is_found_without_a_checkout(tmp_path, monkeypatch):
    # a wheel puts the zoo in <prefix>/share/vidstyle/models (pyproject data-files); no models/ beside the package
    from vidstyle.models import registry

    installed = tmp_path / "prefix" / "share" / "vidstyle" / "models"
    installed.mkdir(parents=True)
    _save(installed, name="shipped-fast")
    monkeypatch.setattr(registry, "checkout_models_dir", lambda: tmp_path / "site-packages" / "models")
    monkeypatch.setattr(registry, "installed_models_dir", lambda: installed)
    assert registry.package_models_dir() == installed
    assert registry.find_model("shipped-fast") == installed / "shipped-fast.safetensors"
    # in a checkout, models/ (with its README) wins over a stale installed copy
    checkout = tmp_path / "repo" / "models"
    checkout.mkdir(parents=True)
    (checkout / "README.md").write_text("zoo")
    monkeypatch.setattr(registry, "checkout_models_dir", lambda: checkout)
    assert registry.package_models_dir() == checkout
