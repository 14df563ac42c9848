import pytest
import soundfile as sf

from streamdl.data.sources import TTS_SOURCE, split_of
from streamdl.data.tts import STAMP_TEXTS, render_synthetic_speech, stamp_texts
from streamdl.errors import StreamdlError


@pytest.fixture
def stamps(tmp_path):
    folder = tmp_path / STAMP_TEXTS / "animals"
    folder.mkdir(parents=True)
    (folder / "dog.txt").write_text("A dog barks at the postman.\nde.utf8=Ein Hund bellt den Briefträger an.\n"
                                    "pt_BR.utf8=Um cachorro late para o carteiro.\nca@valencia.utf8=Un gos borda al carter.\n"
                                    "xx.utf8=\n", encoding="utf-8")  # fmt: skip
    return tmp_path


def test_stamp_descriptions_give_one_sentence_per_language(stamps):
    assert stamp_texts(stamps) == [("de", "Ein Hund bellt den Briefträger an."),
                                   ("pt-br", "Um cachorro late para o carteiro."), ("ca", "Un gos borda al carter.")]  # fmt: skip


def test_rendering_is_real_speech_reproducible_and_replaces_an_earlier_one(espeak, stamps, tmp_path):
    out = tmp_path / "synthetic-speech"
    out.mkdir()
    (out / "stale.wav").write_bytes(b"old")
    summary = render_synthetic_speech(stamps, out, minutes=0.1, seed=3)
    files = sorted(p.name for p in out.glob("*.wav"))
    assert summary["files"] == len(files) >= 2 and "stale.wav" not in files
    assert summary["minutes"] >= 0.1
    assert all(sf.info(out / name).duration >= 0.3 for name in files)
    assert render_synthetic_speech(stamps, out, minutes=0.1, seed=3) == summary
    assert sorted(p.name for p in out.glob("*.wav")) == files  # same seed: the same voices and texts


def test_missing_stamps_get_a_clear_error(espeak, tmp_path):
    with pytest.raises(StreamdlError, match="fetch_debian_audio.sh"):
        render_synthetic_speech(tmp_path, tmp_path / "out", minutes=0.1)


def test_synthetic_speech_is_never_test_material():
    assert {split_of(TTS_SOURCE, f"{i:05d}_espeak_de_m3_x-low.wav") for i in range(300)} == {"train", "val"}
