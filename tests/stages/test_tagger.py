"""The streaming tagger in the chain gives what the model gives on the whole signal."""

import numpy as np
import pytest
import torch

from streamdl.dsp.stft import STFTConfig
from streamdl.engine.chain import Chain, Streamer
from streamdl.errors import StreamdlError
from streamdl.models.configs import TaggerConfig
from streamdl.models.spectrum import Spectrum
from streamdl.models.tagger import Tagger
from streamdl.stages.tagger import StreamingTagger, clip_scores, tag_signal


def _model():
    torch.manual_seed(1)
    model = Tagger(TaggerConfig()).eval()
    for p in model.parameters():
        p.data += 0.05 * torch.randn_like(p)
    return model


def test_tap_in_the_chain_equals_whole_signal_forward():
    model = _model()
    x = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    tagger = StreamingTagger(model, backend="eager", keep_history=True)
    streamer = Streamer(Chain(taps=[tagger]))
    streamer.reset()
    for start in range(0, len(x), 777):  # odd block sizes: hops and tagger frames straddle them
        streamer.feed(x[start : start + 777])
    with torch.no_grad():
        whole = torch.sigmoid(model(Spectrum(STFTConfig()).stft(torch.from_numpy(x)[None])))[0].numpy()
    np.testing.assert_allclose(np.array(tagger.history), whole, atol=1e-4)


def test_tag_signal_reports_scores_and_events_in_range():
    tagger = StreamingTagger(_model())
    x = (0.1 * np.random.default_rng(1).standard_normal(24000)).astype(np.float32)
    result = tag_signal(tagger, x)
    assert result["duration_s"] == 1.5
    assert set(result["clip_scores"]) == set(tagger.labels) and all(0 <= v <= 1 for v in result["clip_scores"].values())
    for e in result["events"]:
        assert set(e) == {"label", "onset_s", "offset_s", "score"} and 0 <= e["onset_s"] < e["offset_s"] <= 1.5
    again = tag_signal(tagger, x)  # a second file starts from zero
    assert again == result


def test_a_signal_shorter_than_one_tagger_frame_is_an_error_not_a_score():
    tagger = StreamingTagger(_model())
    assert tag_signal(tagger, np.zeros(320, np.float32))["duration_s"] == 0.02  # one 20 ms frame is enough
    with pytest.raises(StreamdlError, match="short.wav: 319 samples .* shorter than one 20 ms tagger frame"):
        tag_signal(tagger, np.zeros(319, np.float32), name="short.wav")


def test_clip_scores_average_the_top_fifth_of_a_sound_and_all_of_the_silence():
    history = np.zeros((10, 3), np.float32)
    history[:2, 0] = 1.0  # a short sound ...
    history[2:, 2] = 1.0  # ... in an otherwise silent clip
    assert clip_scores(history, ("a", "b", "silence")) == {"a": 1.0, "b": 0.0, "silence": 0.8}
