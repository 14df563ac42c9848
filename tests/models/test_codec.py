"""The codec model: residual VQ, bitrates, chunked == whole at both ends, causal, exports == eager."""

import pytest
import torch

from streamdl.models.codec import Codec, CodecDecoder, CodecEncoder, ResidualVQ
from streamdl.models.configs import CodecConfig
from tests.models.parity import assert_export_equals_eager

SMALL = CodecConfig(hidden=64, latent=16, codebook_size=64, quantizers=12)


def _model(config=SMALL):
    torch.manual_seed(0)
    return Codec(config).eval()


def _spectrum(frames=40, seed=0):
    return 0.3 * torch.randn(2, frames, 161, 2, generator=torch.Generator().manual_seed(seed))


def test_bitrates_map_to_quantizers():
    c = CodecConfig()
    assert c.bits_per_code == 10 and [c.quantizers_for(k) for k in (3, 6, 12)] == [6, 12, 24]
    with pytest.raises(ValueError, match="outside"):
        c.quantizers_for(24)


def test_residual_vq_error_shrinks_with_more_quantizers():
    torch.manual_seed(0)
    rvq = ResidualVQ(8, 256, 8)
    x = torch.randn(4, 50, 8)
    errors = []
    for n in (1, 2, 4, 8):
        q, codes, _ = rvq(x, n)
        assert codes.shape == (4, 50, n)
        torch.testing.assert_close(rvq.decode(codes), q)
        errors.append(float((q - x).pow(2).mean()))
    assert errors == sorted(errors, reverse=True)


def test_residual_vq_codebooks_learn_the_data_and_keep_every_entry_in_use():
    torch.manual_seed(0)
    centres = torch.randn(64, 8) * 3
    data = lambda: centres[torch.randint(64, (32, 16))] + 0.05 * torch.randn(32, 16, 8)  # noqa: E731
    rvq = ResidualVQ(2, 64, 8, decay=0.9)
    x = data()
    before = float((rvq.eval()(x, 2)[0] - x).pow(2).mean())
    rvq.train()
    for _ in range(100):
        rvq(data(), 2)
    rvq.eval()
    x = data()
    q, codes, _ = rvq(x, 2)
    assert float((q - x).pow(2).mean()) < 0.05 * before  # started from the data, then followed it
    torch.testing.assert_close(rvq.norms, rvq.codebooks.pow(2).sum(-1))  # the search's cache is current
    assert len(torch.unique(rvq.encode(data(), 1))) > 0.9 * 64  # dead entries were restarted
    assert torch.equal(rvq.encode(x, 2), codes)  # the streaming search finds the training pass's codes


@pytest.mark.parametrize("chunk", [1, 2, 5, 20])
@torch.no_grad()
def test_encoder_and_decoder_stream_chunk_by_chunk(chunk):
    model, spec = _model(), _spectrum()
    sent, received = model.encoder_state(2), model.decoder_state(2)
    whole_codes = model.encode_chunk(spec, sent, 6)[0]
    whole_out = model.decode_chunk(whole_codes, received)[0]
    codes, outs = [], []
    for t in range(0, 20, chunk):
        c, sent = model.encode_chunk(spec[:, 2 * t : 2 * (t + chunk)], sent, 6)
        o, received = model.decode_chunk(c, received)
        codes.append(c)
        outs.append(o)
    assert torch.equal(torch.cat(codes, 1), whole_codes)
    torch.testing.assert_close(torch.cat(outs, 1), whole_out, atol=1e-5, rtol=1e-4)
    model.set_bitrate(3.0)  # this small model's codes have 6 bits: 3 kbps = 10 codes a frame
    assert model.active == 10


@torch.no_grad()
def test_step_is_the_round_trip_and_training_forward_agrees():
    model, spec = _model(), _spectrum(frames=8)
    model.active = 6
    state, outs = model.init_state(2), []
    for t in range(0, 8, 2):
        out, state = model.step(spec[:, t : t + 2], state)
        outs.append(out)
    rec, vq_loss = model(spec, 6)
    torch.testing.assert_close(torch.cat(outs, 1), rec, atol=1e-5, rtol=1e-4)
    assert vq_loss >= 0


@torch.no_grad()
def test_causal():
    model, spec = _model(), _spectrum()
    changed = spec.clone()
    changed[:, 30:] = 3.0
    a, b = model(spec, 6)[0], model(changed, 6)[0]
    torch.testing.assert_close(a[:, :30], b[:, :30])
    assert not torch.allclose(a[:, 30:], b[:, 30:])


@pytest.mark.parametrize("backend", ["torchscript", "onnx"])
@torch.no_grad()
def test_exports_equal_eager(backend):
    spec = _spectrum(seed=2)[:1]
    assert_export_equals_eager(_model(), [spec[:, t : t + 2] for t in range(0, 12, 2)], backend)


@pytest.mark.parametrize("backend", ["torchscript", "onnx"])
@torch.no_grad()
def test_encoder_and_decoder_export_apart_and_equal_eager(backend):
    """What the bench times: each end exported on its own, at the bitrate set before export."""
    model, spec = _model(), _spectrum(seed=3)[:1]
    model.set_bitrate(3.0)
    frames = [spec[:, t : t + 2] for t in range(0, 12, 2)]
    assert_export_equals_eager(CodecEncoder(model), frames, backend)
    codes = model.encode_chunk(spec[:, :12], model.encoder_state(1), model.active)[0]  # (1, 6, active): the stream's codes
    assert_export_equals_eager(CodecDecoder(model), [codes[:, t : t + 1] for t in range(6)], backend)
