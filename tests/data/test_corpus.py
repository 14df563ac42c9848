import numpy as np

from streamdl.data.corpus import SPEECH_LEVEL_DB, prepare_clip


def test_every_pool_and_split_is_built(tiny_corpus):
    corpus, summary = tiny_corpus
    assert {f"{role}_{split}" for role in ("speech", "noise") for split in ("train", "val", "test")} <= set(summary)
    with np.load(corpus / "speech_train.npz") as z:
        assert z["audio"].dtype == np.int16 and z["offsets"][-1] == len(z["audio"])
        assert all(name.startswith("user-speech:") for name in z["names"])


def test_the_summary_counts_minutes_per_label():
    from streamdl.data.corpus import label_minutes

    half_minute = np.zeros(30 * 16000, np.int16)
    pools = {"speech_train": [("fillets:a.ogg", half_minute)] * 3, "music_val": [("widelands-music:m.ogg", half_minute)],
             "noise_train": [("bucklespring:k.wav", half_minute), ("minetest:x/fire.ogg", half_minute)]}  # fmt: skip
    assert label_minutes(pools, 16000) == {"speech": 1.5, "music": 0.5, "keyboard": 0.5, "unlabelled": 0.5}


def test_clips_are_trimmed_resampled_and_levelled():
    rate = 44100
    t = np.arange(rate) / rate
    x = np.concatenate([np.zeros(rate // 2), 0.02 * np.sin(2 * np.pi * 200 * t), np.zeros(rate // 2)]).astype(np.float32)
    y = prepare_clip(x, rate, "speech", 16000)
    assert abs(len(y) - 16000) < 400  # the silence is gone
    assert abs(20 * np.log10(np.sqrt(np.mean(y**2))) - SPEECH_LEVEL_DB) < 1.0
    assert prepare_clip(np.zeros(rate, np.float32), rate, "noise", 16000) is None  # silent clips are dropped


def test_too_few_files_for_a_validation_split(tmp_path):
    import pytest
    import soundfile as sf

    from streamdl.data.corpus import build_corpus
    from streamdl.data.sources import Source
    from streamdl.errors import StreamdlError

    (tmp_path / "speech").mkdir()
    sf.write(tmp_path / "speech" / "only.wav", 0.1 * np.ones(8000), 16000)
    with pytest.raises(StreamdlError, match="give more speech files"):
        build_corpus(tmp_path, tmp_path / "corpus", sources=(Source("s", "speech", (str(tmp_path / "speech"),), ("*.wav",)),), workers=1)


def test_an_archive_splits_clip_by_clip_when_its_source_says_so(tmp_path):
    import io
    import zipfile

    import soundfile as sf

    from streamdl.data.corpus import build_corpus
    from streamdl.data.sources import Source

    (tmp_path / "pkg").mkdir()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(tmp_path / "pkg" / "voices.zip", "w") as z:
        for i in range(60):
            buffer = io.BytesIO()
            sf.write(buffer, 0.1 * rng.standard_normal(8000), 16000, format="WAV")
            z.writestr(f"line{i}.wav", buffer.getvalue())
    source = Source("v", "speech", ("pkg",), ("voices.zip",), members=r".*\.wav$", test_fraction=0.0, split_members=True)
    summary = build_corpus(tmp_path, tmp_path / "corpus", sources=(source,), workers=1)
    assert summary["speech_train"]["clips"] + summary["speech_val"]["clips"] == 60 and summary["speech_val"]["clips"] > 0
