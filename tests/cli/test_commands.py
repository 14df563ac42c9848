"""The command line as a user meets it: real processes, real files, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from streamdl.assets import shipped_model_path


def streamdl(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "streamdl", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_denoise_the_bundled_sample_by_default(tmp_path):
    result = streamdl("denoise", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "sample_noisy_denoised.wav"
    info = sf.info(out)
    from streamdl.assets import sample_path

    assert info.samplerate == sf.info(sample_path()).samplerate and info.frames == sf.info(sample_path()).frames


def test_denoise_a_folder_keeps_rates_and_lengths(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "in" / "a.wav", 0.1 * rng.standard_normal((44100, 2)), 44100)
    sf.write(tmp_path / "in" / "sub" / "b.flac", 0.1 * rng.standard_normal(12345), 8000)
    result = streamdl("denoise", "-q", str(tmp_path / "in"), str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    a, b = sf.info(tmp_path / "out" / "a.wav"), sf.info(tmp_path / "out" / "sub" / "b.flac")
    assert (a.samplerate, a.frames, a.channels) == (44100, 44100, 2)
    assert (b.samplerate, b.frames, b.channels) == (8000, 12345, 1)


def test_restore_rebuilds_the_high_band_and_leaves_whole_speech_alone(tmp_path):
    from pesq import pesq

    from streamdl.data.damage import band_limited

    clean, rate = sf.read(shipped_model_path("denoiser").parent / "sample_clean.flac", dtype="float32")
    sf.write(tmp_path / "narrow.wav", band_limited(clean, rate, 4000), rate)
    sf.write(tmp_path / "whole.wav", clean, rate)
    for name in ("narrow", "whole"):
        result = streamdl("restore", "-q", str(tmp_path / f"{name}.wav"), str(tmp_path / f"{name}_out.wav"))
        assert result.returncode == 0, result.stderr

    def high_band_db(x):  # 4.5-7 kHz over 0.3-3 kHz, long-term
        power, freqs = np.abs(np.fft.rfft(x)) ** 2, np.fft.rfftfreq(len(x), 1 / rate)
        return 10 * np.log10(power[(freqs > 4500) & (freqs < 7000)].mean() / power[(freqs > 300) & (freqs < 3000)].mean())

    narrow, restored = sf.read(tmp_path / "narrow.wav")[0], sf.read(tmp_path / "narrow_out.wav")[0]
    assert len(restored) == len(clean)
    assert high_band_db(narrow) < high_band_db(clean) - 40  # the damage took the band away ...
    assert high_band_db(narrow) + 20 < high_band_db(restored) < high_band_db(clean) + 3  # ... the restorer brought one back, not louder
    whole = sf.read(tmp_path / "whole_out.wav")[0]
    assert pesq(rate, clean, whole, "wb") > 4.5  # whole speech is left nearly as it is


@pytest.mark.parametrize("command", ["denoise", "restore", "tag"])
def test_a_bad_file_in_a_folder_is_skipped_and_the_rest_done(tmp_path, command):
    (tmp_path / "in").mkdir()
    sf.write(tmp_path / "in" / "a.wav", 0.1 * np.random.default_rng(0).standard_normal(16000), 16000)
    (tmp_path / "in" / "b.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    sf.write(tmp_path / "in" / "c.flac", 0.1 * np.random.default_rng(1).standard_normal(16000), 16000)
    result = streamdl(command, "--json", str(tmp_path / "in")) if command == "tag" else streamdl(command, "-q", str(tmp_path / "in"), str(tmp_path / "out"))
    assert result.returncode == 2
    assert "skipped: " in result.stderr and "b.wav: not a readable audio file" in result.stderr
    assert "1 of 3 files failed" in result.stderr.strip().splitlines()[-1]
    if command != "tag":
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.wav", "c.flac"]
    else:
        assert [Path(json.loads(line)["file"]).name for line in result.stdout.splitlines()] == ["a.wav", "c.flac"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["denoise", "missing.wav", "out.wav"], "missing.wav: no such file or folder"),
        (["denoise", "bad.wav", "out.wav"], "not a readable audio file"),
        (["denoise", "empty.wav", "out.wav"], "no audio samples"),
        (["denoise", "nan.wav", "out.wav"], "NaN or Inf"),
        (["denoise", "--model", "bad.wav", "ok.wav", "out.wav"], "not a streamdl model file"),
        (["denoise", "ok.wav", "out.mp4"], "unknown output format"),
        (["denoise", "ok.wav", "ok.wav/out.wav"], "cannot write there"),
        (["denoise", "--device", "cuda", "ok.wav", "out.wav"], "CUDA"),
        (["tag", "bad.wav"], "not a readable audio file"),
        (["restore", "ok.wav", "out.wav", "--restorer-model", str(shipped_model_path("denoiser"))], "this is a denoiser model, not a restorer"),
        (["restore", "missing.wav", "out.wav"], "missing.wav: no such file or folder"),
        (["tag", "--tagger-model", "ok.wav", "ok.wav"], "not a streamdl model file"),
        (["tag", "--tagger-model", str(shipped_model_path("denoiser")), "ok.wav"], "this is a denoiser model, not a tagger"),
        (["eval-tagger", "--clips", "ok.wav"], "not a folder"),
        (["train", "denoiser", "--corpus", ".", "--out", "runs", "--synthetic-share", "45"], "a fraction of the noises"),
        (["train", "tagger", "--corpus", ".", "--labels", "99"], "(--labels) is how many of the 14 labels to learn (0: all), from 0 to 14; got 99"),
        (["train", "tagger", "--corpus", ".", "--level-db", "-12", "-50"], "lowest first"),
        (["train", "tagger", "--corpus", ".", "--scene-seconds", "0.2"], "(--scene-seconds) is a scene length in seconds, from 1 to 60"),
        (["train", "tagger", "--corpus", ".", "--synthetic-share", "2"], "a fraction of the noises"),
        (["train", "tagger", "--corpus", ".", "--speed", "0", "2"], "resampling factor (above 0, at most 4)"),
        (["data", "build", "--packages", ".", "--out", "c", "--no-debian", "--extra-sources"], "redeclipse-data: package folder missing"),
        (["data", "build", "--packages", ".", "--out", "c", "--no-debian", "--synthetic-speech"], "synthetic-speech: package folder missing; run streamdl data tts first"),
        (["data", "tts", "--packages", "."], "stamp descriptions missing"),
        (["train", "denoiser", "--corpus", ".", "--out", "runs", "--snr-db", "20", "-5"], "lowest first"),
        (["train", "denoiser", "--corpus", ".", "--out", "runs", "--noise-speed", "0.5", "8"], "(above 0, at most 4)"),
        (["train", "denoiser", "--corpus", ".", "--out", "runs", "--noise-speed", "0", "2"], "(above 0, at most 4)"),
        (["train", "denoiser", "--corpus", ".", "--out", "runs", "--stoi-dyn-range", "0"], "in dB, from 1 to 120"),
        (["train", "average", "--out", "m.pt", str(shipped_model_path("denoiser")), str(shipped_model_path("tagger"))],
         "this is a tagger model, not a denoiser"),
        (["train", "average", "--out", "m.pt", "--corpus", ".", str(shipped_model_path("denoiser"))], "a denoiser has none"),
    ],
)
def test_user_mistakes_get_one_line(tmp_path, args, message):
    (tmp_path / "bad.wav").write_bytes(b"RIFFjunk")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1)), 16000)
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.0], np.float32), 16000, subtype="FLOAT")
    sf.write(tmp_path / "ok.wav", np.zeros(1600), 16000)
    result = streamdl(*args, cwd=tmp_path)
    if "CUDA" in message and result.returncode == 0:
        pytest.skip("this machine has CUDA")
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_bench_json_contract():
    result = streamdl("bench", "--json", "--seconds", "2", "--tag", "--codec", "6")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("sample_rate", "hop", "hop_ms", "algorithmic_latency_ms", "stages", "total", "rtf", "tagger_vs_denoiser"):
        assert key in report
    assert list(report["stages"]) == ["stft", "tagger", "denoiser", "istft", "codec"]  # the chain's own order
    for stage in report["stages"].values():
        assert set(stage) == {"median_us", "p99_us"}
    assert set(report["total"]) == {"median_us", "p99_us"}
    assert report["algorithmic_latency_ms"] == 35.0  # the STFT's 20 ms, and the codec's frame less a hop plus its ramp


def test_bench_with_the_numba_backend_runs_the_codec_on_its_fastest_runtime():
    result = streamdl("bench", "--json", "--seconds", "1", "--backend", "numba", "--tag", "--codec", "6")
    assert result.returncode == 0, result.stderr
    assert {"denoiser", "tagger", "codec"} <= set(json.loads(result.stdout)["stages"])


def test_tag_json_lines_for_a_folder(tmp_path):
    from streamdl.assets import sample_path

    (tmp_path / "in").mkdir()
    sf.write(tmp_path / "in" / "quiet.wav", np.zeros(8000), 8000)
    data, rate = sf.read(sample_path())
    sf.write(tmp_path / "in" / "speech.flac", data, rate)
    result = streamdl("tag", "--json", str(tmp_path / "in"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["file"]).name for r in lines] == ["quiet.wav", "speech.flac"]
    for r in lines:
        assert set(r) == {"file", "duration_s", "clip_scores", "events"}
    quiet, speech = lines
    assert quiet["duration_s"] == 1.0 and max(quiet["clip_scores"], key=quiet["clip_scores"].get) == "silence"
    assert speech["duration_s"] == 12.0 and max(speech["clip_scores"], key=speech["clip_scores"].get) == "speech"
    assert any(e["label"] == "speech" for e in speech["events"])
    for e in speech["events"]:
        assert set(e) == {"label", "onset_s", "offset_s", "score"} and 0 <= e["onset_s"] < e["offset_s"] <= 12.0


def test_a_reader_that_goes_away_stops_it_quietly(tmp_path):
    sf.write(tmp_path / "quiet.wav", np.zeros(8000), 8000)
    cmd = [sys.executable, "-m", "streamdl", "tag", "--json", str(tmp_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # as `| head -1` does once it has its line
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 141 and err == ""


def test_run_tag_prints_events_as_they_happen():
    from streamdl.assets import sample_path

    result = streamdl("run", "--input-file", str(sample_path()), "--no-play", "--no-denoise", "--tag", "--json", "--seconds", "4")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    starts = [e for e in events if "offset_s" not in e]
    assert any(e["label"] == "speech" for e in starts)  # the sample's talker starts within the first second
    assert all(e["onset_s"] < 4.0 for e in events)


def test_a_running_streamdl_prints_its_threads_on_sigusr1_and_stops_on_ctrl_c(tmp_path):
    import signal
    import time

    from streamdl.assets import sample_path

    cmd = [sys.executable, "-m", "streamdl", "run", "--input-file", str(sample_path()), "--no-play", "--no-denoise", "--loop", "--record", str(tmp_path / "out.wav")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "out.wav").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Current thread" in err and "in cmd_run" in err  # the main thread's stack, then it carried on
    assert sf.info(tmp_path / "out.wav").frames > 0  # finalized


def test_unknown_device_is_a_one_line_error():
    result = streamdl("run", "-i", "no-such-device-anywhere", "--no-denoise", "--seconds", "1")
    assert result.returncode == 2
    assert "no-such-device-anywhere" in result.stderr and "Traceback" not in result.stderr


def test_version_and_help():
    assert streamdl("--version").stdout.startswith("streamdl ")
    assert "denoise" in streamdl("--help").stdout


def test_codec_encode_decode_and_damaged_files(tmp_path):
    import torch

    from streamdl.models.checkpoint import save_model
    from streamdl.models.codec import Codec
    from streamdl.models.configs import CodecConfig

    torch.manual_seed(0)
    save_model(tmp_path / "codec.pt", Codec(CodecConfig(hidden=32)), "codec")
    model = ["--model", str(tmp_path / "codec.pt")]
    sf.write(tmp_path / "in.wav", 0.1 * np.random.default_rng(0).standard_normal((3 * 44100, 2)), 44100)
    result = streamdl("codec", "encode", str(tmp_path / "in.wav"), str(tmp_path / "a.sdlc"), "--kbps", "3", *model)
    assert result.returncode == 0, result.stderr
    assert abs((tmp_path / "a.sdlc").stat().st_size - 3 * 3000 / 8) < 100  # 3 s at 3 kbps, plus header and CRCs
    result = streamdl("codec", "decode", str(tmp_path / "a.sdlc"), str(tmp_path / "out.wav"), *model)
    assert result.returncode == 0, result.stderr
    assert sf.info(tmp_path / "out.wav").samplerate == 16000 and sf.info(tmp_path / "out.wav").frames == 3 * 16000
    data = (tmp_path / "a.sdlc").read_bytes()
    (tmp_path / "cut.sdlc").write_bytes(data[: len(data) // 2])
    result = streamdl("codec", "decode", str(tmp_path / "cut.sdlc"), str(tmp_path / "cut.wav"), *model)
    assert result.returncode == 0 and result.stderr.count("\n") == 1 and "warning: " in result.stderr and "cut short" in result.stderr
    assert 0 < sf.info(tmp_path / "cut.wav").frames < 3 * 16000
    (tmp_path / "bad.sdlc").write_bytes(data[:60] + bytes([data[60] ^ 1]) + data[61:])
    for name, message in (("bad.sdlc", "damaged data"), ("in.wav", "not a streamdl codec file")):
        result = streamdl("codec", "decode", str(tmp_path / name), str(tmp_path / "x.wav"), *model)
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = streamdl("codec", "encode", str(tmp_path / "in.wav"), str(tmp_path / "b.sdlc"), "--kbps", "50", *model)
    assert result.returncode == 2 and "not a bitrate of this codec" in result.stderr
    result = streamdl("codec", "encode", str(tmp_path / "in.wav"), str(tmp_path / "b.sdlc"))  # the shipped codec, at 6 kbps
    assert result.returncode == 0 and "6 kbps" in result.stdout, result.stderr


def test_eval_tagger_scores_a_folder_of_labelled_recordings(tmp_path):
    (tmp_path / "clips" / "speech").mkdir(parents=True)
    clean, rate = sf.read(shipped_model_path("denoiser").parent / "sample_clean.flac")
    sf.write(tmp_path / "clips" / "speech" / "sample.wav", clean, rate)
    result = streamdl("eval-tagger", "--clips", str(tmp_path / "clips"), "--out", str(tmp_path / "report"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["clip_per_label"] == {"speech": {"clips": 1, "top1": 1.0}}
    assert report["clips"][0]["name"] == "speech/sample.wav"
    assert (tmp_path / "report" / "confusion.png").is_file()


def test_data_pairs_draws_another_set_with_another_seed(tiny_corpus, tmp_path):
    sets = {}
    for seed in ("2026", "2026", "7"):
        out = tmp_path / seed
        result = streamdl("data", "pairs", "--corpus", str(tiny_corpus[0]), "--out", str(out), "--count", "2", "--seed", seed)
        assert result.returncode == 0, result.stderr
        sets.setdefault(seed, []).append((out / "noisy" / "pair000_snr0.wav").read_bytes())
    assert sets["2026"][0] == sets["2026"][1] and sets["7"][0] != sets["2026"][0]


def test_data_pairs_cycles_through_the_snrs_asked_for(tiny_corpus, tmp_path):
    result = streamdl("data", "pairs", "--corpus", str(tiny_corpus[0]), "--out", str(tmp_path), "--count", "3", "--snr-db", "-5", "15")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "noisy").iterdir()) == ["pair000_snr-5.wav", "pair001_snr15.wav", "pair002_snr-5.wav"]


def test_eval_scores_the_denoiser_against_its_input_overall_and_by_snr(tiny_corpus, tmp_path):
    from streamdl.data.pairs import write_evaluation_pairs

    write_evaluation_pairs(tiny_corpus[0], tmp_path, count=3, seconds=1.0)
    result = streamdl("eval", "--clean", str(tmp_path / "clean"), "--noisy", str(tmp_path / "noisy"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "3 pairs" and lines[2].startswith("noisy") and lines[3].startswith("streamdl")
    assert [line.split(":")[0] for line in lines[4:]] == ["input SNR 0 dB", "input SNR 5 dB", "input SNR 10 dB"]
    report = json.loads(streamdl("eval", "--clean", str(tmp_path / "clean"), "--noisy", str(tmp_path / "noisy"), "--json").stdout)
    assert set(report["by_snr"]["5"]) == {"pairs", "noisy", "streamdl"}


def test_export_writes_a_weights_file_that_every_command_takes(tmp_path):
    from streamdl.models.checkpoint import load_model, save_model

    save_model(tmp_path / "m.pt", load_model(shipped_model_path("denoiser"), "denoiser"), "denoiser")
    result = streamdl("export", str(tmp_path / "m.pt"), str(tmp_path / "m.npz"))
    assert result.returncode == 0 and "as a weights file" in result.stdout, result.stderr
    sf.write(tmp_path / "in.wav", 0.1 * np.random.default_rng(0).standard_normal(16000), 16000)
    outs = []
    for model in ("m.npz", "m.pt"):
        result = streamdl("denoise", "-q", "--model", str(tmp_path / model), str(tmp_path / "in.wav"), str(tmp_path / f"{model}.wav"))
        assert result.returncode == 0, result.stderr
        outs.append(sf.read(tmp_path / f"{model}.wav")[0])
    np.testing.assert_array_equal(*outs)  # the kernel runs the same weights either way
    assert streamdl("export", str(tmp_path / "m.pt"), str(tmp_path / "m.bin")).returncode == 2


@pytest.mark.parametrize("argv", [["denoise", "-q"], ["tag"], ["restore", "-q", "SAMPLE", "out.wav"],
                                  ["run", "--input-file", "SAMPLE", "--no-play", "--tag", "--restore", "--seconds", "0.5"]])
def test_running_the_shipped_models_on_the_cpu_imports_no_torch(tmp_path, argv):
    from streamdl.assets import sample_path

    argv = [str(sample_path()) if a == "SAMPLE" else a for a in argv]
    code = f"import sys; from streamdl.cli import main; main({argv!r}); assert 'torch' not in sys.modules, 'torch was imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
