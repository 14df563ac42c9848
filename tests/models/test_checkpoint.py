import dataclasses
import pickle

import pytest
import torch

from streamdl.assets import shipped_model_path
from streamdl.errors import StreamdlError
from streamdl.models.checkpoint import average_models, export_weights, load_model, save_model
from streamdl.models.configs import DenoiserConfig, TaggerConfig
from streamdl.models.denoiser import Denoiser
from streamdl.models.tagger import Tagger

SMALL = DenoiserConfig(erb_bands=16, df_bins=24, conv_channels=32, gru_hidden=24)


def test_a_saved_model_rebuilds_itself(tmp_path):
    model = Denoiser(SMALL)
    save_model(tmp_path / "m.pt", model, "denoiser")
    loaded = load_model(tmp_path / "m.pt", "denoiser")
    assert loaded.config == SMALL
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)


def test_the_shipped_weights_load():
    model = load_model(shipped_model_path("denoiser"), "denoiser")
    assert not model.training


def test_export_sets_a_restorers_band_level_and_nothing_else(tmp_path):
    export_weights(shipped_model_path("restorer"), tmp_path / "r.npz", band_gain_db=-18.0)
    shipped, quieter = (load_model(path, "restorer") for path in (shipped_model_path("restorer"), tmp_path / "r.npz"))
    assert quieter.config == dataclasses.replace(shipped.config, band_gain_db=-18.0)
    assert all(torch.equal(a, b) for a, b in zip(shipped.state_dict().values(), quieter.state_dict().values()))
    with pytest.raises(StreamdlError, match="sets a restorer's band level"):
        export_weights(shipped_model_path("denoiser"), tmp_path / "d.npz", band_gain_db=-6.0)


def test_models_of_one_shape_average_into_one(tmp_path):
    a, b = Denoiser(SMALL), Denoiser(SMALL)
    torch.nn.init.ones_(b.df_head.weight)
    save_model(tmp_path / "a.pt", a, "denoiser")
    save_model(tmp_path / "b.pt", b, "denoiser")
    mean, kind = average_models([tmp_path / "a.pt", tmp_path / "b.pt"])
    assert kind == "denoiser" and mean.config == SMALL
    for name, w in mean.state_dict().items():
        assert torch.allclose(w, (a.state_dict()[name] + b.state_dict()[name]) / 2)
    save_model(tmp_path / "c.pt", Denoiser(dataclasses.replace(SMALL, conv_channels=48)), "denoiser")  # not a growable part
    with pytest.raises(StreamdlError, match="differ in shape"):
        average_models([tmp_path / "a.pt", tmp_path / "c.pt"])


def test_denoisers_grown_apart_average_once_grown_alike(tmp_path):
    plain = Denoiser(SMALL).eval()
    grown = plain.grown(dataclasses.replace(SMALL, output_gate=True, noise_floor=True))
    save_model(tmp_path / "plain.pt", plain, "denoiser")
    save_model(tmp_path / "grown.pt", grown, "denoiser")
    mean, _ = average_models([tmp_path / "plain.pt", tmp_path / "grown.pt"])
    assert mean.config == grown.config
    spec = torch.randn(1, 20, SMALL.stft.n_bins, 2)
    torch.testing.assert_close(mean(spec), plain(spec), atol=1e-6, rtol=1e-5)  # growth keeps each one's output


def test_taggers_calibrated_apart_average_with_their_mean_thresholds(tmp_path):
    config = TaggerConfig(channels=(4, 4, 4), hidden=8)
    for name, thresholds in (("a", 0.3), ("b", 0.5)):
        calibrated = dataclasses.replace(config, thresholds=(thresholds,) * len(config.labels))
        save_model(tmp_path / f"{name}.pt", Tagger(calibrated), "tagger")
    mean, kind = average_models([tmp_path / "a.pt", tmp_path / "b.pt"])
    assert kind == "tagger" and mean.config.thresholds == (0.4,) * len(config.labels)


def test_wrong_kind(tmp_path):
    save_model(tmp_path / "m.pt", Denoiser(SMALL), "denoiser")
    with pytest.raises(StreamdlError, match="not a tagger"):
        load_model(tmp_path / "m.pt", "tagger")


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04broken zip"])
def test_garbage_file(tmp_path, content):
    (tmp_path / "bad.pt").write_bytes(content)
    with pytest.raises(StreamdlError, match="not a streamdl model file"):
        load_model(tmp_path / "bad.pt", "denoiser")


class _Evil:
    def __reduce__(self):
        return (exec, ("open('/tmp/streamdl-pwned', 'w').write('x')",))


def test_loading_never_runs_code_from_the_file(tmp_path):
    torch.save({"format": "streamdl-model-1", "payload": _Evil()}, tmp_path / "evil.pt", pickle_module=pickle)
    with pytest.raises(StreamdlError, match="not a streamdl model file"):
        load_model(tmp_path / "evil.pt", "denoiser")
    import os

    assert not os.path.exists("/tmp/streamdl-pwned")


def test_a_plain_tensor_file_is_refused(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(StreamdlError, match="no 'streamdl-model-1' tag"):
        load_model(tmp_path / "other.pt", "denoiser")


def test_missing_file(tmp_path):
    with pytest.raises(StreamdlError, match="no such model file"):
        load_model(tmp_path / "nope.pt", "denoiser")
