import dataclasses

import pytest
import torch

from streamdl.assets import shipped_model_path
from streamdl.errors import StreamdlError
from streamdl.models.checkpoint import load_model
from streamdl.models.configs import FLOOR_START, DenoiserConfig
from streamdl.models.denoiser import Denoiser
from streamdl.models.export import BACKENDS, step_function
from tests.models.parity import assert_chunked_equals_whole, assert_export_equals_eager

SMALL = DenoiserConfig(erb_bands=16, df_bins=24, conv_channels=32, gru_hidden=24)


def lively(m: Denoiser) -> Denoiser:
    """``m`` with its deep filter made to matter (it starts at zero) and its gate, if any (it starts open:
    now some bands close, some stay open)."""
    torch.nn.init.normal_(m.df_head.weight, std=0.05)
    if m.gate_head is not None:
        torch.nn.init.normal_(m.gate_head.weight, std=0.2)
    return m


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "gated-with-floors"])
def model(request):
    torch.manual_seed(0)
    return lively(Denoiser(dataclasses.replace(SMALL, output_gate=request.param, noise_floor=request.param)).eval())


@pytest.fixture(scope="module")
def spec():
    return 0.1 * torch.randn(2, 37, SMALL.stft.n_bins, 2, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 37])
def test_chunked_and_stepped_equal_whole(model, spec, chunk):
    assert_chunked_equals_whole(model, spec, chunk)


@torch.no_grad()
def test_causal(model, spec):
    """Changing frame t changes no output before t."""
    other = spec.clone()
    other[:, 20:] = 0.5
    torch.testing.assert_close(model(other)[:, :20], model(spec)[:, :20])


@torch.no_grad()
def test_once_the_filters_are_set_the_output_splits_into_filtered_parts(model, spec):
    noise = 0.1 * torch.randn(spec.shape, generator=torch.Generator().manual_seed(2))
    state = model.init_state(2)
    gains, coefs, _ = model.filters(spec + noise, state[:3])
    parts = [model.apply_filters(x, gains, coefs, state[3])[0] for x in (spec, noise)]
    torch.testing.assert_close(parts[0] + parts[1], model(spec + noise), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
@torch.no_grad()
def test_exported_step_equals_eager_over_several_chunks(model, spec, backend):
    assert_export_equals_eager(model, [spec[:1, t] for t in range(12)], backend, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@torch.no_grad()
def test_torchscript_on_cuda_equals_cpu(model, spec):
    gpu = Denoiser(model.config).eval()
    gpu.load_state_dict(model.state_dict())
    gpu = gpu.cuda()
    step = step_function(gpu, "torchscript")
    out, _ = step(spec[:1, 0].cuda(), gpu.init_state(1))
    ref, _ = model.step(spec[:1, 0], model.init_state(1))
    torch.testing.assert_close(out.cpu(), ref, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("model", [Denoiser(), load_model(shipped_model_path("denoiser"), "denoiser")], ids=["default", "shipped"])
def test_size_and_latency(model):
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    assert model.config.stft.algorithmic_latency_ms <= 20.0


@torch.no_grad()
def test_a_grown_model_starts_with_the_same_output(model, spec):
    bigger = dataclasses.replace(model.config, df_bins=32, df_order=5, gru_hidden=40, output_gate=True, noise_floor=True)
    grown = model.grown(bigger).eval()
    assert grown.config == bigger
    torch.testing.assert_close(grown(spec), model(spec), atol=1e-6, rtol=1e-5)
    assert grown.df_head.weight.abs().sum() > 0 and grown.gru.weight_hh_l0[:, 24:].abs().sum() > 0  # new parts, silent


@pytest.mark.parametrize("change", [{"df_bins": 16}, {"df_order": 2}, {"gru_hidden": 16}, {"erb_bands": 24}])
def test_a_model_only_grows_in_width(model, change):
    with pytest.raises(StreamdlError, match="can only grow"):
        model.grown(dataclasses.replace(model.config, **change))


@pytest.mark.parametrize("part", ["output_gate", "noise_floor"])
def test_a_gate_or_floors_cannot_be_removed(part):
    with pytest.raises(StreamdlError, match="can only grow"):
        Denoiser(dataclasses.replace(SMALL, **{part: True})).grown(SMALL)


@torch.no_grad()
def test_the_noise_floor_falls_fast_to_the_noise_and_rises_slowly_under_speech():
    m = Denoiser(dataclasses.replace(SMALL, noise_floor=True))
    noise, speech = torch.full((1, 100, 1), 1.0), torch.full((1, 50, 1), 1.6)  # 1 s at -30 dB, then 0.5 s at -12 dB
    floors = m.track_floor(torch.cat([noise, speech], 1), torch.full((1, 1), FLOOR_START))[0, :, 0]
    assert abs(floors[99] - 1.0) < 0.01  # down from where a stream starts (+30 dB) to the noise within a second
    assert 1.0 < floors[-1] < 1.0 + 0.25 * 0.6  # under 0.5 s of speech it rose by less than a quarter of the gap


@torch.no_grad()
def test_a_closed_gate_silences_the_output(spec):
    m = Denoiser(dataclasses.replace(SMALL, output_gate=True)).eval()
    torch.nn.init.normal_(m.df_head.weight, std=0.05)
    m.gate_head.bias.fill_(-30.0)
    assert m(spec).abs().max() < 1e-6 * spec.abs().max()


def test_noise_floors_need_a_conv1_buffer_to_live_in():
    with pytest.raises(StreamdlError, match="conv_kernel of 2 or more"):
        Denoiser(dataclasses.replace(SMALL, noise_floor=True, conv_kernel=1))
