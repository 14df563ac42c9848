"""Building chains and live engines from options: the one place the CLI, the demo and the bench share."""

import json
import time

import numpy as np
import pytest
import soundfile as sf
import torch

from streamdl.engine.options import ChainOptions, LiveOptions
from streamdl.engine.pipeline import build_chain, open_engine, run_live
from streamdl.models.codec import Codec
from streamdl.models.configs import CodecConfig


def test_the_options_pick_the_stages_in_order():
    chain = build_chain(ChainOptions(tag=True, attenuation_limit=12.0))
    assert [stage.name for stage in chain.stages] == ["denoiser"] and [tap.name for tap in chain.taps] == ["tagger"]
    assert chain.named("tagger") is chain.taps[0] and chain.named("codec") is None
    assert build_chain(ChainOptions(denoise=False)).stages == []


def test_the_numba_backend_runs_every_model_and_the_codec_after_the_inverse_stft():
    torch.manual_seed(0)
    chain = build_chain(ChainOptions(tag=True, codec=3, backend="numba"), models={"codec": Codec(CodecConfig(hidden=32)).eval()})
    assert [part.backend for part in chain.taps + chain.stages] == ["numba", "numba"]
    assert chain.named("codec") is chain.signal_stages[0] and chain.named("codec").backend == "numba"
    assert chain.delay_samples == 160 + 240  # the STFT's, then the codec's frame less a hop plus its ramp


def test_a_file_played_as_the_microphone_runs_on_the_clock_and_is_recorded_whole(tmp_path):
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 16000)).astype(np.float32)
    sf.write(tmp_path / "tone.wav", tone, 16000, subtype="FLOAT")
    engine = open_engine(build_chain(ChainOptions(denoise=False)), LiveOptions(input_file=str(tmp_path / "tone.wav"), play=False,
                                                                                 record=str(tmp_path / "out.wav")))  # fmt: skip
    events, start = [], time.monotonic()
    stats = run_live(engine, seconds=10, on_event=events.append)
    assert 0.4 < time.monotonic() - start < 5  # paced in real time, and over when the file is
    out, _ = sf.read(tmp_path / "out.wav", dtype="float32")
    delay = engine.chain.delay_samples
    np.testing.assert_allclose(out[delay : delay + len(tone)], tone, atol=1e-4)
    assert stats["dropped_samples"] == 0 and json.dumps(stats)


def test_a_file_given_as_the_microphone_device_is_still_played_with_a_note(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(1600, np.float32), 16000)
    with pytest.warns(FutureWarning, match="use --input-file"):
        engine = open_engine(build_chain(ChainOptions(denoise=False)), LiveOptions(input=str(tmp_path / "a.wav"), play=False))
    assert engine.source.path == tmp_path / "a.wav"
