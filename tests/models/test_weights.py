"""Weights files: what ships, read without PyTorch and without running code, and checked against the config."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from streamdl.assets import shipped_model_path
from streamdl.errors import StreamdlError
from streamdl.models.checkpoint import export_weights, load_model, save_model
from streamdl.models.configs import TaggerConfig
from streamdl.models.export import numpy_arrays
from streamdl.models.tagger import Tagger
from streamdl.models.weights import read_weights, save_weights
from streamdl.stages.tagger import StreamingTagger


@pytest.mark.parametrize("kind", ["denoiser", "tagger"])
def test_a_checkpoint_exports_bit_for_bit_and_loads_back(tmp_path, kind):
    model = load_model(shipped_model_path(kind), kind)
    save_model(tmp_path / "m.pt", model, kind)
    assert export_weights(tmp_path / "m.pt", tmp_path / "m.npz") == kind
    stored_kind, config, arrays = read_weights(tmp_path / "m.npz")
    assert stored_kind == kind and config == model.config
    for name, t in model.state_dict().items():
        assert np.array_equal(arrays[name], t.numpy()), name
    again = load_model(tmp_path / "m.npz", kind)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_the_shipped_models_load_without_torch():
    code = ("import sys; from streamdl import StreamingDenoiser, StreamingTagger; StreamingDenoiser(); StreamingTagger(); "
            "assert 'torch' not in sys.modules, 'torch was imported'")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def _tagger_file(tmp_path, change=None, **config):
    torch.manual_seed(0)
    model = Tagger(TaggerConfig(n_mels=32, channels=(4, 8, 8), hidden=16, **config)).eval()
    arrays = numpy_arrays(model)
    if change:
        change(arrays)
    save_weights(tmp_path / "t.npz", "tagger", model.config, arrays)
    return tmp_path / "t.npz", model


@pytest.mark.parametrize("backend", ["numba", "eager"])
def test_arrays_that_do_not_match_the_config_are_a_one_line_error_naming_them(tmp_path, backend):
    def shrink(arrays):
        arrays["proj.weight"] = arrays["proj.weight"][:, :-1]

    path, _ = _tagger_file(tmp_path, shrink)
    with pytest.raises(StreamdlError, match="proj.weight") as e:
        StreamingTagger(str(path), backend=backend)
    assert "\n" not in str(e.value)


def test_a_missing_array_is_named(tmp_path):
    path, _ = _tagger_file(tmp_path, lambda arrays: arrays.pop("head.bias"))
    with pytest.raises(StreamdlError, match="head.bias"):
        StreamingTagger(str(path))


def test_a_file_that_would_need_pickle_is_refused(tmp_path):
    path, model = _tagger_file(tmp_path)
    with np.load(path) as data:
        entries = dict(data)
    entries["proj.weight"] = np.array([object()], dtype=object)  # loading this needs pickle
    np.savez(tmp_path / "evil.npz", **entries)
    with pytest.raises(StreamdlError, match="not a streamdl weights file"):
        read_weights(tmp_path / "evil.npz")


@pytest.mark.parametrize("content, message", [(b"not a zip", "not a streamdl weights file"), (None, "no '")])
def test_foreign_files_are_refused(tmp_path, content, message):
    path = tmp_path / "x.npz"
    if content is None:
        np.savez(path, a=np.zeros(3))
    else:
        path.write_bytes(content)
    with pytest.raises(StreamdlError, match=message):
        read_weights(path)


def test_the_wrong_kind_and_a_foreign_config_are_refused(tmp_path):
    path, model = _tagger_file(tmp_path)
    with pytest.raises(StreamdlError, match="this is a tagger model, not a denoiser"):
        read_weights(path, "denoiser")
    with np.load(path) as data:
        entries = dict(data)
    entries["__config__"] = np.array(json.dumps({"no_such_field": 1}))
    np.savez(tmp_path / "odd.npz", **entries)
    with pytest.raises(StreamdlError, match="config does not describe a tagger"):
        read_weights(tmp_path / "odd.npz")
