"""The codec model: bitrates, exact transform, chunked == whole at both ends, causal, concealment, export == eager."""

import numpy as np
import pytest
import torch

from streamdl.models.codec import Codec, noise_signs
from streamdl.models.configs import CodecConfig
from tests.models.parity import assert_export_equals_eager

SMALL = CodecConfig(codebook_size=64, envelope_stages=2, group_stages=(4, 2), layouts=((4, 1, (3, 0)), (8, 2, (4, 2))), hidden=32)


def _model(config=SMALL):
    """A codec with random codebooks and post-filter: the mechanics, not the quality."""
    torch.manual_seed(0)
    model = Codec(config).eval()
    for name in model._book_names():
        getattr(model, name).normal_(0.0, 0.3)
    model.refresh_norms()
    torch.nn.init.normal_(model.out.weight, std=0.05)
    return model


def _signal(frames=20, batch=2, seed=0):
    t = torch.arange(frames * 320) / 16000
    noise = 0.05 * torch.randn(batch, frames * 320, generator=torch.Generator().manual_seed(seed))
    return 0.3 * torch.sin(2 * np.pi * 180 * t) * (1 + torch.sin(2 * np.pi * 3 * t)) + noise


def test_bitrates_map_to_layouts():
    c = CodecConfig()
    assert c.bits_per_code == 10 and [c.quantizers_for(k) for k in (3, 6, 12)] == [6, 12, 24] and c.quantizers == 24
    assert c.layout(12) == (3, (9, 0)) and c.latency_samples == 400  # 25 ms
    with pytest.raises(ValueError, match=r"not a bitrate of this codec \(3, 6, 12 kbps\)"):
        c.quantizers_for(24)


def test_analysis_and_synthesis_give_the_signal_back_a_ramp_later():
    model, x = _model(), _signal()
    log_rms, shapes, _ = model.analyse(x, x.new_zeros(2, 80))
    y, _ = model.synthesise(shapes * torch.exp(log_rms @ model.expand), x.new_zeros(2, 80))
    torch.testing.assert_close(y[:, 80:], x[:, :-80], atol=1e-5, rtol=0)


@pytest.mark.parametrize("chunk", [1, 2, 5, 20])
@torch.no_grad()
def test_encoder_and_decoder_stream_chunk_by_chunk(chunk):
    model, x = _model(), _signal()
    sent, received = model.encoder_state(2), model.decoder_state(2)
    whole_codes = model.encode_chunk(x, sent, 8)[0]
    codes = []
    for t in range(0, 20, chunk):  # each chunk from the state the last one left
        c, sent = model.encode_chunk(x[:, 320 * t : 320 * (t + chunk)], sent, 8)
        codes.append(c)
    assert torch.equal(torch.cat(codes, 1), whole_codes)
    whole_codes[0, 7] = -1  # a lost frame
    whole_out, outs = model.decode_chunk(whole_codes, received)[0], []
    for t in range(0, 20, chunk):
        o, received = model.decode_chunk(whole_codes[:, t : t + chunk], received)
        outs.append(o)
    torch.testing.assert_close(torch.cat(outs, 1), whole_out, atol=1e-5, rtol=1e-4)


@torch.no_grad()
def test_step_is_the_whole_signal_round_trip():
    model, x = _model(), _signal(frames=8)
    model.active = 8
    state, outs = model.init_state(2), []
    for t in range(8):
        out, state = model.step(x[:, 320 * t : 320 * (t + 1)], state)
        outs.append(out)
    torch.testing.assert_close(torch.cat(outs, 1), model(x, 8), atol=1e-5, rtol=1e-4)


@torch.no_grad()
def test_causal():
    model, x = _model(), _signal()
    changed = x.clone()
    changed[:, 320 * 10 :] = 0.5
    a, b = model(x, 8), model(changed, 8)
    torch.testing.assert_close(a[:, : 320 * 10], b[:, : 320 * 10])  # the frames decoded before the change arrived
    assert not torch.allclose(a[:, 320 * 10 :], b[:, 320 * 10 :])


@torch.no_grad()
def test_every_band_keeps_its_decoded_energy():
    model, x = _model(), _signal()
    codes, _ = model.encode_chunk(x, model.encoder_state(2), 4)
    envelope = model.decode_envelope(codes, model.decoder_state(2)[0], 1)[0]
    estimate, magnitudes, _ = model.postfilter(model.decoded_shapes(codes, 4), envelope, model.layout_features(codes, 4), model.decoder_state(2)[1])
    filled = model.fill(estimate, magnitudes, torch.zeros(2, 20))
    torch.testing.assert_close(filled.pow(2) @ model.average, torch.ones(2, 20, SMALL.bands), atol=1e-4, rtol=0)


@torch.no_grad()
def test_lost_frames_are_concealed_with_sound_that_fades():
    model, x = _model(), _signal()
    codes, _ = model.encode_chunk(x, model.encoder_state(2), 8)
    codes[:, 10:] = -1
    y = model.decode_chunk(codes, model.decoder_state(2))[0]
    level = [float(y[:, 320 * t : 320 * (t + 1)].pow(2).mean()) for t in (11, 14, 19)]
    assert level[0] > 1e-4 and level[0] > level[1] > level[2]


@torch.no_grad()
def test_a_group_coded_as_magnitudes_sends_no_signs():
    config = CodecConfig(**{**SMALL.__dict__, "magnitude_groups": (False, True)})
    model, x = _model(config), _signal()
    assert config.signed_bins == 64 and model.out.out_features == 64 + 320
    flipped = x.clone()
    log_rms, shapes, _ = model.analyse(x, x.new_zeros(2, 80))
    y, _ = model.synthesise((shapes * torch.tensor([1.0] * 64 + [-1.0] * 256)) * torch.exp(log_rms @ model.expand), x.new_zeros(2, 80))
    flipped[:, :-80] = y[:, 80:]  # the same signal with every sign above the signed bins flipped
    codes = model.encode_chunk(x, model.encoder_state(2), 8)[0]
    assert torch.equal(model.encode_chunk(flipped, model.encoder_state(2), 8)[0][:, 1:-1], codes[:, 1:-1])


def test_noise_is_a_function_of_the_frame_number():
    a, b = noise_signs(torch.tensor([[3.0, 4.0]]), 320), noise_signs(torch.tensor([[4.0]]), 320)
    assert torch.equal(a[:, 1], b[:, 0]) and abs(float(a.mean())) < 0.1 and set(a.unique().tolist()) == {-1.0, 1.0}


@torch.no_grad()
def test_torchscript_equals_eager():
    model, x = _model(), _signal(batch=1, seed=2)
    model.active = 4
    assert_export_equals_eager(model, [x[:, 320 * t : 320 * (t + 1)] for t in range(6)], "torchscript")

