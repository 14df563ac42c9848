"""Codec files and the live stage, with a small untrained model (the mechanics, not the quality)."""

import numpy as np
import pytest
import torch

from streamdl.engine.chain import Chain, process_signal
from streamdl.errors import StreamdlError
from streamdl.io.bitstream import StreamInfo
from streamdl.stages.codec import StreamingCodec, decode, decode_file, encode, encode_file
from tests.models.test_codec import SMALL, _model


@pytest.fixture(scope="module")
def model():
    return _model(SMALL)


def _speechlike(n=16000 + 123):
    t = np.arange(n) / 16000
    return (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_file_round_trip_keeps_length_and_size_matches_bitrate(model, tmp_path):
    x = _speechlike()
    info = encode_file(model, x, tmp_path / "a.sdlc", kbps=2.4)
    assert info.quantizers == 8 and info.bitrate == 2400 and info.samples == len(x)
    assert info.frames == -(-(len(x) + 80) // 320)
    y, back = decode_file(model, tmp_path / "a.sdlc")
    assert back == info and y.shape == x.shape and y.dtype == np.float32 and np.abs(y).max() <= 1.0


def test_decoding_equals_the_models_whole_signal_round_trip(model):
    x = _speechlike(6400)
    codes, info = encode(model, x, 2.4)
    with torch.no_grad():
        ref = model(torch.from_numpy(np.pad(x, (0, 320)))[None], 8)[0].numpy()[80 : 80 + len(x)]
    np.testing.assert_allclose(decode(model, codes, info), np.clip(ref, -1, 1), atol=1e-5)


def test_unsupported_bitrate_and_foreign_streams_are_clear_errors(model):
    with pytest.raises(StreamdlError, match="not a bitrate of this codec"):
        encode(model, _speechlike(), 50)
    codes, info = encode(model, _speechlike(), 2.4)
    with pytest.raises(StreamdlError, match="made by another codec"):
        decode(model, codes, StreamInfo(**{**info.__dict__, "frame_samples": 640}))
    with pytest.raises(StreamdlError, match="does not make"):
        decode(model, codes[:, :5], StreamInfo(**{**info.__dict__, "quantizers": 5}))


@pytest.mark.parametrize("backend", ["numba", "eager", "torchscript"])
def test_live_stage_plays_the_round_trip_and_the_chain_compensates_its_delay(model, backend):
    x = _speechlike(8000)
    chain = Chain(signal_stages=[StreamingCodec(model, kbps=2.4, backend=backend)])
    assert chain.delay_samples == 160 + 240 and chain.algorithmic_latency_ms == 35.0  # the STFT's, then a frame less a hop and a ramp
    live = np.clip(process_signal(chain, x), -1, 1)
    codes, info = encode(model, np.pad(x, (160, 0)), 2.4)  # the codec's frames start where the STFT's delay ends
    np.testing.assert_allclose(live, decode(model, codes, info)[160:], atol=1e-4)


def test_live_stage_refuses_onnx(model):
    with pytest.raises(StreamdlError, match="numba, eager or torchscript"):
        StreamingCodec(model, kbps=2.4, backend="onnx")


def test_the_shipped_codec_keeps_held_out_speech_intelligible():
    import soundfile as sf

    from streamdl.assets import shipped_model_path
    from streamdl.evaluation.speech import score
    from streamdl.stages.codec import load_codec

    clean, rate = sf.read(shipped_model_path("denoiser").parent / "sample_clean.flac", dtype="float32")
    model, x = load_codec(), clean[:6 * rate]
    scores = {kbps: score(x, decode(model, *encode(model, x, kbps)), rate) for kbps in (6, 12)}
    assert scores[12]["stoi"] > scores[6]["stoi"] > 0.75 and scores[12]["pesq_wb"] > 1.5, scores
