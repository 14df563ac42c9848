import json

import numpy as np
import pytest

from streamdl.data.pairs import PAIRS_MANIFEST, write_evaluation_pairs
from streamdl.errors import StreamdlError
from streamdl.evaluation.speech import evaluate_folders, score, stoi_bands
from streamdl.io.audiofile import write_audio


def test_a_perfect_output_scores_the_top_of_each_scale():
    x = (0.1 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    s = score(x, x, 16000)
    assert s["pesq_wb"] > 4.6 and s["stoi"] > 0.999 and s["si_sdr"] > 60


def test_stoi_by_band_averages_to_pystoi_and_finds_the_band_a_noise_covers():
    from pystoi import stoi

    from streamdl.assets import shipped_model_path
    from streamdl.engine.files import read_mono

    clean = read_mono(shipped_model_path("denoiser").with_name("sample_clean.flac"), 16000)[:48000]
    t = np.arange(len(clean)) / 16000
    tone = np.sin(2 * np.pi * 1000 * t) * 4 * np.sqrt(np.mean(clean**2))  # loud, inside the 952 Hz band only
    bands = stoi_bands(clean, clean + tone, 16000)
    assert bands.shape == (15,) and bands.mean() == pytest.approx(stoi(clean, clean + tone, 16000), abs=1e-9)
    assert np.argmin(bands) == 8  # centres 150 * 2^(k/3) Hz: k = 8 is 952 Hz
    with pytest.raises(StreamdlError, match="longer pairs"):
        stoi_bands(clean[:3000], clean[:3000], 16000)


def test_pairs_are_scored_overall_and_by_their_input_snr(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    write_evaluation_pairs(corpus, tmp_path, count=6, seconds=1.0)  # SNRs 0, 5, 10 dB, two each
    report = evaluate_folders(tmp_path / "clean", tmp_path / "noisy", {"pass-through": lambda x, rate: x})
    assert report["pairs"] == 6 and report["pass-through"] == report["noisy"]
    assert list(report["by_snr"]) == ["0", "5", "10"]
    stoi = [report["by_snr"][snr]["noisy"]["stoi"] for snr in ("0", "5", "10")]
    assert stoi == sorted(stoi)  # less noise, more intelligible
    means = [np.mean([report["by_snr"][snr]["noisy"][m] for snr in ("0", "5", "10")]) for m in ("stoi", "si_sdr")]
    assert means == pytest.approx([report["noisy"]["stoi"], report["noisy"]["si_sdr"]], abs=1e-3)  # equal groups
    assert sorted(report["by_pair"]) == sorted(path.name for path in (tmp_path / "noisy").iterdir())
    assert np.mean([row["noisy"]["stoi"] for row in report["by_pair"].values()]) == pytest.approx(report["noisy"]["stoi"], abs=1e-4)


def test_pairs_are_scored_by_where_their_noise_came_from(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    t = np.arange(16000) / 16000
    for folder, noise in (("hum", np.sin(2 * np.pi * 100 * t)), ("hiss", np.random.default_rng(1).standard_normal(16000))):
        (tmp_path / "noise" / folder).mkdir(parents=True)
        write_audio(tmp_path / "noise" / folder / "a.wav", 0.1 * noise, 16000)
    write_evaluation_pairs(corpus, tmp_path / "pairs", count=8, seconds=1.0, noise_dir=tmp_path / "noise")
    report = evaluate_folders(tmp_path / "pairs" / "clean", tmp_path / "pairs" / "noisy", {})
    assert list(report["by_noise"]) == ["hiss", "hum"]
    assert report["by_noise"]["hum"]["noisy"]["stoi"] > report["by_noise"]["hiss"]["noisy"]["stoi"]  # a 100 Hz hum masks little


def test_pairs_are_scored_by_where_their_speech_came_from(tmp_path):
    rng = np.random.default_rng(2)
    t = np.arange(16000) / 16000
    clean = 0.1 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    entries = []
    for i, (speech, level) in enumerate((("narrator:a.wav", 0.03), ("narrator:b.wav", 0.03), ("game:c.wav", 0.3), ("game:d.wav", 0.3))):
        for sub, x in (("clean", clean), ("noisy", clean + level * rng.standard_normal(len(t)))):
            (tmp_path / sub).mkdir(exist_ok=True)
            write_audio(tmp_path / sub / f"pair{i}.wav", x.astype(np.float32), 16000)
        entries.append({"pair": f"pair{i}.wav", "speech": speech, "noise": "hiss/a.wav", "snr_db": 0.0})
    (tmp_path / PAIRS_MANIFEST).write_text(json.dumps(entries))
    report = evaluate_folders(tmp_path / "clean", tmp_path / "noisy", {})
    assert list(report["by_speech"]) == ["game", "narrator"] and "by_noise" not in report  # one noise source: no groups
    assert report["by_speech"]["narrator"]["noisy"]["stoi"] > report["by_speech"]["game"]["noisy"]["stoi"]  # less noise


def test_pairs_are_scored_by_speech_band_whatever_rate_it_is_stored_at(tmp_path):
    from streamdl.dsp.resample import resample
    from streamdl.evaluation.speech import speech_band

    rng = np.random.default_rng(3)
    wide = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    phone = resample(resample(wide, 16000, 8000), 8000, 16000)[:16000]  # telephone speech stored at 16 kHz
    assert speech_band(wide, 16000) == "wideband" and speech_band(phone, 16000) == "narrowband"
    assert speech_band(resample(phone, 16000, 48000), 48000) == "narrowband"
    for i, clean in enumerate((wide, phone, phone)):
        for sub, x in (("clean", clean), ("noisy", clean + 0.05 * rng.standard_normal(16000))):
            (tmp_path / sub).mkdir(exist_ok=True)
            write_audio(tmp_path / sub / f"pair{i}.wav", x.astype(np.float32), 16000)
    report = evaluate_folders(tmp_path / "clean", tmp_path / "noisy", {})
    assert {band: group["pairs"] for band, group in report["by_band"].items()} == {"narrowband": 2, "wideband": 1}


def test_folders_without_namesakes_are_refused(tmp_path):
    for sub, name in (("clean", "a.wav"), ("noisy", "b.wav")):
        (tmp_path / sub).mkdir()
        write_audio(tmp_path / sub / name, np.zeros(1600, np.float32), 16000)
    with pytest.raises(StreamdlError, match="matched by name"):
        evaluate_folders(tmp_path / "clean", tmp_path / "noisy", {})
