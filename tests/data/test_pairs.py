"""Held-out evaluation pairs on disk: the same mixtures for every system, and a manifest of what made them."""

import json

import numpy as np
import pytest
import soundfile as sf

from streamdl.data.mixing import Pool
from streamdl.data.pairs import write_evaluation_pairs


def test_evaluation_pairs_match_by_name(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    write_evaluation_pairs(corpus, tmp_path, count=4, seconds=1.0)
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == sorted(p.name for p in (tmp_path / "noisy").iterdir())


def test_evaluation_pairs_can_take_the_noise_from_a_folder(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    hum = 0.3 * np.sin(2 * np.pi * 100 * np.arange(22050) / 44100)  # 0.5 s of 100 Hz at 44.1 kHz
    sf.write(tmp_path / "hum.wav", hum, 44100)
    assert Pool.from_files(tmp_path).offsets.tolist() == [0, 8000]
    write_evaluation_pairs(corpus, tmp_path / "pairs", count=3, seconds=1.0, noise_dir=tmp_path)
    for name in ("pair000_snr0.wav", "pair002_snr10.wav"):
        clean, _ = sf.read(tmp_path / "pairs" / "clean" / name)
        noisy, _ = sf.read(tmp_path / "pairs" / "noisy" / name)
        noise = noisy - clean
        spectrum = np.abs(np.fft.rfft(noise))
        assert abs(np.argmax(spectrum) * 16000 / len(noise) - 100) < 2  # the folder's hum, looped
        snr = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
        assert snr == pytest.approx(float(name.split("snr")[1][:-4]), abs=0.2)
    manifest = json.loads((tmp_path / "pairs" / "pairs.json").read_text())
    assert [(m["pair"], m["noise"], m["snr_db"]) for m in manifest] == [
        ("pair000_snr0.wav", "hum.wav", 0.0), ("pair001_snr5.wav", "hum.wav", 5.0), ("pair002_snr10.wav", "hum.wav", 10.0)]
    assert all(m["speech"].startswith("user-speech:") for m in manifest)  # the corpus clip each pair's speech starts in
