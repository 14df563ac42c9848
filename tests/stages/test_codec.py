"""Codec files and the live stage, with a small untrained model (the mechanics, not the quality)."""

import numpy as np
import pytest
import torch

from streamdl.dsp.stft import STFTConfig
from streamdl.engine.chain import Chain, process_signal
from streamdl.errors import StreamdlError
from streamdl.models.codec import Codec
from streamdl.models.configs import CodecConfig
from streamdl.models.spectrum import Spectrum
from streamdl.stages.codec import StreamingCodec, decode, decode_file, encode, encode_file


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Codec(CodecConfig(hidden=64, latent=16, quantizers=24)).eval()


def _speechlike(n=16000 + 123):
    t = np.arange(n) / 16000
    return (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_file_round_trip_keeps_length_and_size_matches_bitrate(model, tmp_path):
    x = _speechlike()
    info = encode_file(model, x, tmp_path / "a.sdlc", kbps=6)
    assert info.quantizers == 12 and info.bitrate == 6000 and info.samples == len(x)
    assert info.frames == -(-(len(x) + 160) // 320)
    y, back = decode_file(model, tmp_path / "a.sdlc")
    assert back == info and y.shape == x.shape and y.dtype == np.float32 and np.abs(y).max() <= 1.0


def test_decoding_equals_the_models_whole_signal_round_trip(model):
    x = _speechlike(6400)
    codes, info = encode(model, x, 12)
    spec = Spectrum(STFTConfig()).stft(torch.from_numpy(np.pad(x, (0, 160 + 160)))[None])  # whole 20 ms frames
    with torch.no_grad():
        rec, _ = model(spec, 24)
        ref = Spectrum(STFTConfig()).istft(rec)[0].numpy()[160 : 160 + len(x)]
    np.testing.assert_allclose(decode(model, codes, info), np.clip(ref, -1, 1), atol=1e-5)


def test_unsupported_bitrate_is_a_clear_error(model):
    with pytest.raises(StreamdlError, match="outside this codec's range"):
        encode(model, _speechlike(), 50)


@pytest.mark.parametrize("backend", ["eager", "onnx"])
def test_live_stage_plays_the_round_trip_and_the_chain_compensates_its_hop(model, backend):
    if backend == "onnx":
        pytest.importorskip("onnxruntime")
    x = _speechlike(8000)
    stage = StreamingCodec(model, kbps=6, backend=backend)
    chain = Chain(stages=[stage])
    assert chain.delay_samples == 320 and chain.algorithmic_latency_ms == 30.0  # the STFT's hop and the codec's
    live = process_signal(chain, x)
    codes, info = encode(model, x, 6)
    np.testing.assert_allclose(live, decode(model, codes, info), atol=1e-4)
