"""The ``streamdl`` command line. Each subcommand is a thin layer over a library function."""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import sys
import warnings
from importlib import resources
from pathlib import Path

from streamdl.errors import StreamdlError


def sample_path() -> Path:
    """The bundled noisy speech sample (12 s, 16 kHz mono; see streamdl/assets/README.md)."""
    return Path(str(resources.files("streamdl") / "assets" / "sample_noisy.flac"))


def _denoiser_stage(args):
    from streamdl.models.checkpoint import load_model
    from streamdl.models.runtime import StreamingDenoiser

    model = load_model(args.model, "denoiser") if args.model else None
    return StreamingDenoiser(model, device=args.device, backend=args.backend, attenuation_limit_db=args.attenuation_limit, mix=args.mix)


def _add_denoiser_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="denoiser model file (default: the shipped weights)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where the model runs (default: cpu)")
    p.add_argument("--backend", default="auto", choices=["auto", "eager", "torchscript", "onnx", "numba"],
                   help="model runtime (default: the Numba kernel on CPU, TorchScript on CUDA)")  # fmt: skip
    p.add_argument("--attenuation-limit", type=float, metavar="DB", help="suppress noise by at most this many dB")
    p.add_argument("--mix", type=float, default=1.0, help="1 = fully denoised, 0 = original (default: 1)")


def _tagger(args, **kwargs):
    from streamdl.models.checkpoint import load_model
    from streamdl.tagging.runtime import StreamingTagger

    model = load_model(args.tagger_model, "tagger") if args.tagger_model else None
    return StreamingTagger(model, device=args.device, **kwargs)


def _print_event(event: dict, as_json: bool, prefix: str = "") -> None:
    from streamdl.tagging.events import describe

    print(json.dumps(event) if as_json else prefix + describe(event), flush=True)


def cmd_tag(args) -> None:
    from streamdl.engine.files import for_each_file, read_mono
    from streamdl.io.audiofile import find_audio_files
    from streamdl.tagging.runtime import tag_signal

    files = find_audio_files(Path(args.input) if args.input else sample_path())
    tagger = _tagger(args, backend=args.backend)
    rate = tagger.model.config.stft.sample_rate

    def one(path: Path) -> None:
        result = {"file": str(path), **tag_signal(tagger, read_mono(path, rate), rate, name=str(path))}
        if args.json:
            print(json.dumps(result), flush=True)
            return
        top = sorted(result["clip_scores"].items(), key=lambda kv: -kv[1])[:3]
        print(f"{path}  ({result['duration_s']:.1f} s)  " + ", ".join(f"{label} {score:.2f}" for label, score in top))
        for event in result["events"]:
            _print_event(event, False, "  ")

    for_each_file(files, one)


def cmd_eval_tagger(args) -> None:
    from streamdl.tagging.evaluate import evaluate_tagger, folder_clips, format_report, score_clips, write_report

    if args.clips:
        report = score_clips(_tagger(args), folder_clips(Path(args.clips)))
        if args.out:
            write_report(report, Path(args.out))
    else:
        report = evaluate_tagger(_tagger(args), Path(args.corpus), Path(args.out) if args.out else None, scenes=args.scenes)
    print(json.dumps(report) if args.json else format_report(report))
    if args.out:
        print(f"wrote {args.out}/report.json and {args.out}/confusion.png", file=sys.stderr)


def cmd_codec_encode(args) -> None:
    from streamdl.codec.runtime import encode_file, load_codec
    from streamdl.engine.files import read_mono

    model = load_codec(args.model)
    rate = model.config.stft.sample_rate
    info = encode_file(model, read_mono(args.input, rate), args.output, args.kbps)
    size = Path(args.output).stat().st_size
    print(f"wrote {args.output}: {info.frames} frames, {info.bitrate / 1000:g} kbps of codes, {size} bytes")


def cmd_codec_decode(args) -> None:
    from streamdl.codec.runtime import decode_file, load_codec
    from streamdl.io.audiofile import write_audio

    audio, info = decode_file(load_codec(args.model), args.input)
    write_audio(args.output, audio, info.sample_rate)
    print(f"wrote {args.output}: {len(audio) / info.sample_rate:.2f} s at {info.sample_rate} Hz")


def cmd_denoise(args) -> None:
    from streamdl.engine.chain import Chain
    from streamdl.engine.files import process_files

    inputs = Path(args.input) if args.input else sample_path()
    output = Path(args.output) if args.output else Path(f"{inputs.stem}_denoised.wav")
    if inputs.is_dir() and not args.output:
        raise StreamdlError("a folder of inputs needs an output folder: streamdl denoise IN_DIR OUT_DIR")
    chain = Chain(stages=[_denoiser_stage(args)])
    for path in process_files(chain, inputs, output, quiet=args.quiet):
        print(f"wrote {path}")


def cmd_bench(args) -> None:
    from streamdl.bench import format_table, run_bench

    stages = {} if args.no_denoise else {"denoiser": _denoiser_stage(args)}
    other = "auto" if args.backend == "numba" else args.backend  # auto picks a model's own kernel where it has one (not the codec)
    taps = {} if args.no_tag else {"tagger": _tagger(args, backend=other)}
    codec = None
    if not args.no_codec:
        from streamdl.codec.runtime import load_codec
        from streamdl.models.checkpoint import shipped_model_path
        from streamdl.models.codec import Codec

        codec = load_codec(args.codec_model) if args.codec_model or shipped_model_path("codec").is_file() else Codec().eval()  # cost only
    from streamdl.models.runtime import pick_backend

    codec_backend = pick_backend("cpu") if other == "auto" else other
    report = run_bench(args.seconds, stages, taps=taps, codec=codec, codec_backend=codec_backend)
    print(json.dumps(report) if args.json else format_table(report))


def cmd_devices(args) -> None:
    from streamdl.engine.devices import list_devices

    print(list_devices())


def cmd_run(args) -> None:
    import time

    from streamdl.engine.chain import Chain
    from streamdl.engine.files import read_mono
    from streamdl.engine.live import LiveEngine

    tagger = _tagger(args) if args.tag else None
    stages = [] if args.no_denoise else [_denoiser_stage(args)]
    if args.codec:
        from streamdl.codec.runtime import StreamingCodec, load_codec

        stages.append(StreamingCodec(load_codec(args.codec_model), kbps=args.codec, device=args.device))
    chain = Chain(stages=stages, taps=[tagger] if tagger else [])
    source = read_mono(args.input, chain.config.sample_rate) if args.input and Path(args.input).is_file() else None
    engine = LiveEngine(chain, input_device=None if source is not None else args.input, output_device=args.output,
                        play=not args.no_play, input_channel=args.channel, blocksize=args.blocksize, record=args.record,
                        source=source, loop=args.loop)  # fmt: skip
    tty, shown = sys.stderr.isatty(), 0.0
    try:
        engine.start()
        while (not args.seconds or engine.elapsed < args.seconds) and not engine.done:
            time.sleep(0.05)
            if engine.error is not None:
                raise StreamdlError(f"processing stopped: {type(engine.error).__name__}: {engine.error}")
            while tagger is not None and tagger.events:
                _print_event(tagger.events.popleft(), args.json, "\r" if tty else "")
            if tty and time.monotonic() - shown > 0.5:
                shown = time.monotonic()
                print("\r" + engine.status_line(), end="", file=sys.stderr, flush=True)
    finally:
        engine.stop()
        if tagger is not None:
            tagger.finish()
            for event in tagger.events:
                _print_event(event, args.json)
        if tty:
            print(file=sys.stderr)
        stats = engine.stats()
        print(engine.status_line(), file=sys.stderr)
        if args.stats_json:
            Path(args.stats_json).write_text(json.dumps(stats, indent=1) + "\n")


def cmd_demo(args) -> None:
    from streamdl.demo import run_demo

    run_demo(input_file=Path(args.input_file) if args.input_file else sample_path(), input_device=args.input,
             output_device=args.output, seconds=args.seconds, screenshot=Path(args.screenshot) if args.screenshot else None)  # fmt: skip
    if args.screenshot:
        print(f"wrote {args.screenshot}")


def cmd_data_build(args) -> None:
    from streamdl.data.corpus import build_corpus
    from streamdl.data.sources import EXTRA_SOURCES, SOURCES, TTS_SOURCE, Source
    from streamdl.io.audiofile import AUDIO_SUFFIXES

    patterns = tuple(f"**/*{suffix}" for suffix in AUDIO_SUFFIXES)
    user = [Source(f"user-{role}-{i}", role, (str(Path(d).resolve()),), patterns)
            for role, dirs in (("speech", args.speech), ("noise", args.noise)) for i, d in enumerate(dirs)]  # fmt: skip
    sources = ((() if args.no_debian else SOURCES) + (EXTRA_SOURCES if args.extra_sources else ())
               + ((TTS_SOURCE,) if args.synthetic_speech else ()) + tuple(user))  # fmt: skip
    if not sources:
        raise StreamdlError("nothing to build from: drop --no-debian or give --speech/--noise folders")
    summary = build_corpus(Path(args.packages), Path(args.out), sources=sources, workers=args.workers)
    print(json.dumps(summary, indent=1))


def cmd_data_tts(args) -> None:
    from streamdl.data.sources import TTS_SOURCE
    from streamdl.data.tts import render_synthetic_speech

    out = Path(args.packages) / TTS_SOURCE.packages[0]
    summary = render_synthetic_speech(Path(args.packages), out, minutes=args.minutes, seed=args.seed, workers=args.workers)
    print(f"wrote {summary['files']} utterances, {summary['minutes']} min, to {out}")


def cmd_eval(args) -> None:
    from streamdl.engine.chain import Chain
    from streamdl.engine.files import process_array
    from streamdl.evaluation import evaluate_folders, group_lines

    chain = Chain(stages=[_denoiser_stage(args)])
    report = evaluate_folders(Path(args.clean), Path(args.noisy), {"streamdl": lambda x, rate: process_array(chain, x[:, None], rate)[:, 0]})
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['pairs']} pairs")
    print(f"{'':<10}{'PESQ-WB':>9}{'STOI':>8}{'SI-SDR':>9}")
    for name in ["noisy", "streamdl"]:
        m = report[name]
        print(f"{name:<10}{m['pesq_wb']:>9.3f}{m['stoi']:>8.3f}{m['si_sdr']:>9.2f}")
    for line in group_lines(report):
        print(line)


def cmd_data_pairs(args) -> None:
    from streamdl.data.mixing import write_evaluation_pairs

    seed = {} if args.seed is None else {"seed": args.seed}  # without it, the pairs' default draw
    write_evaluation_pairs(Path(args.corpus), Path(args.out), split=args.split, count=args.count,
                           noise_dir=Path(args.noise) if args.noise else None, **seed)
    print(f"wrote {args.count} pairs to {args.out}/clean and {args.out}/noisy")


def _low_high(option: str, pair: list[float] | None, what: str, *, above: float = -float("inf"), most: float = float("inf")) -> dict:
    """{config field: (low, high)} from a two-number option, or {} when it was not given (the default
    stays); a range that is not ``above < low < high <= most`` is a one-line error."""
    if pair is None:
        return {}
    low, high = pair
    if not above < low < high <= most:
        bounds = [f"above {above:g}"] * (above > -float("inf")) + [f"at most {most:g}"] * (most < float("inf"))
        bounds_text = f" ({', '.join(bounds)})" if bounds else ""
        raise StreamdlError(f"{option} takes the lowest and the highest {what}{bounds_text}, lowest first; got {low:g} {high:g}")
    return {option.lstrip("-").replace("-", "_"): (low, high)}


def _speed_range(option: str, pair: list[float] | None) -> dict:
    """A resampling range (pitch and pace together, see :func:`streamdl.data.mixing.random_speed`):
    :func:`_low_high` with factors above 0 and at most 4."""
    return _low_high(option, pair, "resampling factor", above=0.0, most=4.0)


def _bounded(field: str, value: float | None, low: float, high: float, message: str) -> dict:
    """{field: value} from a one-number option, or {} when it was not given (the default stays);
    a value outside ``low..high`` is the one-line error ``message`` (a template of ``{value}``)."""
    if value is None:
        return {}
    if not low <= value <= high:
        raise StreamdlError(message.format(value=value))
    return {field: value}


def _synthetic_share(args) -> dict:
    """--synthetic-share for the trainers' configs (see :func:`_bounded`)."""
    return _bounded("synthetic_share", args.synthetic_share, 0.0, 1.0,
                    "--synthetic-share is a fraction of the noises, from 0 to 1; got {value}")


def _finish_training(path: Path) -> None:
    """Print where the best model went, once (on rank 0 under torchrun). Under torchrun, then leave
    at once: every file is written, and PyTorch's teardown of gloo and autograd threads at
    interpreter exit sometimes aborts (SIGABRT, "terminate called without an active exception") or
    hangs, which torchrun reports as a failed run (pytorch/pytorch#75097, #190489)."""
    if os.environ.get("RANK", "0") == "0":
        print(f"best model: {path}")
    if "RANK" in os.environ:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def cmd_train_denoiser(args) -> None:
    from streamdl.training.trainer import TrainConfig, train_denoiser

    checked = {**_synthetic_share(args), **_low_high("--snr-db", args.snr_db, "SNR"),  # options not given keep their defaults
               **_speed_range("--noise-speed", args.noise_speed),
               **_bounded("stoi_dyn_range_db", args.stoi_dyn_range, 1.0, 120.0, "--stoi-dyn-range is in dB, from 1 to 120 (STOI uses 40); got {value}")}
    tc = TrainConfig(**_loop_options(args), warmup_steps=args.warmup, under_weight=args.under_weight, stoi_weight=args.stoi_weight,
                     adversarial_from=args.adversarial_from, df_bins=args.df_bins, df_order=args.df_order, gru_hidden=args.gru_hidden,
                     output_gate=args.output_gate, noise_floor=args.noise_floor, **checked)
    _finish_training(train_denoiser(tc, resume=args.resume))


def cmd_train_tagger(args) -> None:
    from streamdl.data.tags import LABELS
    from streamdl.training.tagger import TagTrainConfig, train_tagger

    if not 0 <= args.labels <= len(LABELS):
        raise StreamdlError(f"--labels {args.labels}: give 1 to {len(LABELS)} (of {', '.join(LABELS)}), or 0 for all of them")
    scenes = {**_synthetic_share(args), **_low_high("--level-db", args.level_db, "level in dBFS", most=0.0),
              **_speed_range("--speed", args.speed),
              **_bounded("seconds", args.scene_seconds, 1, 60, "--scene-seconds {value:g}: give 1 to 60 seconds")}  # fmt: skip
    tc = TagTrainConfig(**_loop_options(args), arch=args.arch, labels=LABELS[: args.labels or len(LABELS)], band_masks=args.band_masks, **scenes)
    _finish_training(train_tagger(tc, resume=args.resume))


def _add_training_options(p: argparse.ArgumentParser, kind: str, *, steps: int, lr: float) -> None:
    p.add_argument("--corpus", default="data/corpus", help="folder made by 'streamdl data build'")
    p.add_argument("--out", default=f"runs/{kind}", help="folder for last.pt, best.pt and log.jsonl")
    p.add_argument("--steps", type=int, default=steps, help="length of the learning-rate schedule")
    p.add_argument("--minutes", type=float, default=0.0, help="stop after this many minutes (0: no limit)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=lr, help="peak learning rate")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--workers", type=int, default=1, help="data-loader processes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--init", metavar="MODEL", default="", help="fine-tune: start from this model file's weights (e.g. the shipped one)")


def _loop_options(args) -> dict:
    """The LoopConfig fields that _add_training_options put on the command line."""
    return {"corpus": args.corpus, "out_dir": args.out, "batch_size": args.batch_size, "lr": args.lr, "max_steps": args.steps,
            "max_minutes": args.minutes, "device": args.device, "workers": args.workers, "seed": args.seed, "init": args.init}  # fmt: skip


def cmd_train_codec(args) -> None:
    from streamdl.training.codec import CodecTrainConfig, train_codec

    tc = CodecTrainConfig(**_loop_options(args), adversarial_from=args.adversarial_from)
    _finish_training(train_codec(tc, resume=args.resume))


def cmd_train_average(args) -> None:
    from streamdl.models.checkpoint import average_models, save_model

    model, kind = average_models(args.models)
    if args.corpus and kind != "tagger":
        raise StreamdlError(f"--corpus recalibrates a tagger's thresholds, and a {kind} has none; leave it out")
    save_model(args.out, model, kind)
    if args.corpus:
        from streamdl.training.tagger import calibrate_model_file

        calibrate_model_file(Path(args.out), Path(args.corpus))
    print(f"wrote {args.out}: the mean of {len(args.models)} {kind} models")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamdl", description="Real-time audio processing with deep learning.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('streamdl').__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("denoise", help="remove background noise from speech files")
    p.add_argument("input", nargs="?", help="audio file or folder (default: the bundled noisy sample)")
    p.add_argument("output", nargs="?", help="output file or folder (default: INPUT_denoised.wav here)")
    _add_denoiser_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_denoise)

    p = sub.add_parser("bench", help="per-hop cost of the live chain, one thread")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--seconds", type=float, default=10.0, help="audio seconds to time (default: 10)")
    p.add_argument("--no-denoise", action="store_true", help="leave the denoiser out")
    p.add_argument("--no-tag", action="store_true", help="leave the tagger out")
    p.add_argument("--tagger-model", help="tagger model file (default: the shipped weights)")
    p.add_argument("--no-codec", action="store_true", help="leave the codec out")
    p.add_argument("--codec-model", help="codec model file (default: the shipped one, or an untrained one: cost does not depend on weights)")
    _add_denoiser_options(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("devices", help="list audio devices")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("run", help="process a live device: microphone in, denoised audio out")
    p.add_argument("-i", "--input", metavar="DEVICE", help="input device index or name substring, or an audio file to play "
                   "through the chain (default: the system's default input)")  # fmt: skip
    p.add_argument("--loop", action="store_true", help="with a file as input: play it in a loop")
    p.add_argument("-o", "--output", metavar="DEVICE", help="output device index or name substring (default: system default)")
    p.add_argument("--seconds", type=float, default=0.0, help="stop after this long (default: until Ctrl-C)")
    p.add_argument("--stats-json", metavar="FILE", help="write stream statistics (xruns, latency) here at exit")
    p.add_argument("--no-denoise", action="store_true", help="pass audio through untouched")
    p.add_argument("--channel", type=int, help="use this input channel (0-based) instead of mixing all down")
    p.add_argument("--blocksize", type=int, help="device frames per callback (default: one 10 ms hop)")
    p.add_argument("--record", metavar="FILE", help="also write the processed audio to this wav/flac file")
    p.add_argument("--no-play", action="store_true", help="open no output device (use with --record)")
    p.add_argument("--tag", action="store_true", help="also tag sounds and print events as they start and end")
    p.add_argument("--json", action="store_true", help="with --tag: one JSON object per event and line")
    p.add_argument("--tagger-model", help="tagger model file (default: the shipped weights)")
    p.add_argument("--codec", type=float, metavar="KBPS", help="play the neural codec's round trip at this bitrate (3, 6, 12)")
    p.add_argument("--codec-model", help="codec model file (default: the shipped weights)")
    _add_denoiser_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tag", help="tag sounds in audio files: clip scores and timed events")
    p.add_argument("input", nargs="?", help="audio file or folder (default: the bundled sample)")
    p.add_argument("--json", action="store_true", help="one JSON object per file and line")
    p.add_argument("--tagger-model", help="tagger model file (default: the shipped weights)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--backend", default="auto", choices=["auto", "eager", "torchscript", "onnx", "numba"],
                   help="model runtime (default: the CRNN tagger's Numba kernel on CPU, TorchScript on CUDA)")  # fmt: skip
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("demo", help="desktop window: live spectrograms, controls, latency (needs the demo extra)")
    p.add_argument("--input", dest="input_file", metavar="FILE", help="audio file played in a loop (default: the bundled sample)")
    p.add_argument("-i", dest="input", metavar="DEVICE", help="use this microphone instead of a file")
    p.add_argument("-o", "--output", metavar="DEVICE", help="output device (default: the system default)")
    p.add_argument("--seconds", type=float, default=0.0, help="close after this long (default: when the window closes)")
    p.add_argument("--screenshot", metavar="PNG", help="save the window as it looks at the end (offscreen if there is no display)")
    p.set_defaults(func=cmd_demo)

    data = sub.add_parser("data", help="training data").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("build", help="decode audio sources into a training corpus")
    p.add_argument("--packages", default="data/debian", help="folder of unpacked Debian packages (scripts/fetch_debian_audio.sh)")
    p.add_argument("--out", default="data/corpus", help="corpus folder to write")
    p.add_argument("--speech", action="append", default=[], metavar="DIR", help="your own clean speech folder (repeatable)")
    p.add_argument("--noise", action="append", default=[], metavar="DIR", help="your own noise folder (repeatable)")
    p.add_argument("--no-debian", action="store_true", help="use only the --speech/--noise folders")
    p.add_argument("--extra-sources", action="store_true", help="also read the recorded ambiences beyond shared/DATA.md's list "
                   "(EXTRA_SOURCES in streamdl/data/sources.py; fetch them with scripts/fetch_debian_audio.sh DEST --extra)")
    p.add_argument("--synthetic-speech", action="store_true", help="also read the synthetic voices 'streamdl data tts' "
                   "rendered into the packages folder (training and validation only)")
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_data_build)

    p = data.add_parser("tts", help="render synthetic speech (espeak-ng) for 'data build --synthetic-speech'")
    p.add_argument("--packages", default="data/debian", help="folder of unpacked Debian packages; writes its synthetic-speech/")
    p.add_argument("--minutes", type=float, default=50.0, help="how much speech to render (before silences are trimmed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_data_tts)

    p = data.add_parser("pairs", help="write held-out clean/noisy evaluation pairs from a corpus")
    p.add_argument("--corpus", default="data/corpus")
    p.add_argument("--out", default="data/eval", help="folder that receives clean/ and noisy/")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--count", type=int, default=60)
    p.add_argument("--noise", metavar="DIR", help="take the noise from these audio files instead of the corpus split")
    p.add_argument("--seed", type=int, help="another seed draws another set of pairs from the same speech and noise "
                   "(default 2026: the README's pairs)")
    p.set_defaults(func=cmd_data_pairs)

    p = sub.add_parser("eval", help="score the denoiser on clean/noisy pairs (PESQ-WB, STOI, SI-SDR)")
    p.add_argument("--clean", required=True, help="folder of clean references")
    p.add_argument("--noisy", required=True, help="folder of noisy files with the same names")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_denoiser_options(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("eval-tagger", help="score the tagger on held-out scenes and clips (mAP, F1, events, confusion)")
    p.add_argument("--corpus", default="data/corpus", help="corpus folder ('streamdl data build'); its held-out splits are used")
    p.add_argument("--out", metavar="DIR", help="write report.json and confusion.png here")
    p.add_argument("--scenes", type=int, default=100, help="held-out scenes to score (6 s each)")
    p.add_argument("--clips", metavar="DIR", help="instead, score top-1 on your own recordings: DIR/LABEL/*.wav (one subfolder per label)")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.add_argument("--tagger-model", help="tagger model file (default: the shipped weights)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.set_defaults(func=cmd_eval_tagger)

    codec = sub.add_parser("codec", help="neural speech codec: audio <-> .sdlc files").add_subparsers(dest="codec_command", required=True)
    p = codec.add_parser("encode", help="audio file -> .sdlc codes")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--kbps", type=float, default=6.0, help="bitrate: 3, 6 or 12 (default 6)")
    p.add_argument("--model", help="codec model file (default: the shipped weights)")
    p.set_defaults(func=cmd_codec_encode)
    p = codec.add_parser("decode", help=".sdlc codes -> audio file (16 kHz)")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--model", help="codec model file (default: the shipped weights)")
    p.set_defaults(func=cmd_codec_decode)

    train = sub.add_parser("train", help="train a model").add_subparsers(dest="model", required=True)
    p = train.add_parser("denoiser", help="train the causal denoiser on a corpus")
    _add_training_options(p, "denoiser", steps=5000, lr=1e-3)
    p.add_argument("--warmup", type=int, default=300, help="learning-rate warm-up steps")
    p.add_argument("--under-weight", type=float, default=1.0, help="extra loss weight on removed speech (higher: gentler)")
    p.add_argument("--stoi-weight", type=float, default=0.0, help="weight of a differentiable STOI term in the loss (intelligibility)")
    p.add_argument("--stoi-dyn-range", type=float, metavar="DB",
                   help="the STOI term drops frames DB below the loudest clean frame, as STOI does with 40 (default: keeps all)")
    p.add_argument("--synthetic-share", type=float, help="share of noises that are synthetic, the rest recorded (default 0.45)")
    p.add_argument("--snr-db", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="SNR range of the training mixtures (default -5 20)")
    p.add_argument("--noise-speed", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="range of the factor that resamples half the recorded noises, pitch and pace together (default 0.7 1.4)")
    p.add_argument("--adversarial-from", type=int, default=-1, help="add STFT discriminators from this step on (-1: never)")
    p.add_argument("--df-bins", type=int, default=0, help="deep-filtered low bins (default: --init's, or 64); "
                   "more than --init's grows that model, its new parts starting silent")
    p.add_argument("--df-order", type=int, default=0, help="deep-filter taps: the current frame and past ones (default: "
                   "--init's, or 3); grows like --df-bins, the new taps reaching further back")
    p.add_argument("--gru-hidden", type=int, default=0, help="GRU width (default: --init's, or 160); grows like --df-bins")
    p.add_argument("--output-gate", action="store_true", help="add a last gain per band over the gains and the deep filter "
                   "together, so noise alone can be turned all the way down (--init's model grows one, starting open)")
    p.add_argument("--noise-floor", action="store_true", help="give the network each band's tracked noise floor beside its level, "
                   "a local SNR whatever the noise (--init's model grows these inputs, their weights starting at zero)")
    p.set_defaults(func=cmd_train_denoiser)

    p = train.add_parser("tagger", help="train the streaming sound tagger on a corpus")
    _add_training_options(p, "tagger", steps=3500, lr=3e-3)
    p.add_argument("--arch", default="crnn", choices=["crnn", "attention"], help="GRU or bounded causal self-attention")
    p.add_argument("--labels", type=int, default=0, metavar="N",
                   help="learn only the first N labels of the vocabulary (default: all; --init's model grows into them)")
    p.add_argument("--band-masks", type=int, default=0, metavar="N",
                   help="zero N random frequency bands of up to 800 Hz in each training scene (SpecAugment; default 0)")
    p.add_argument("--level-db", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="RMS range of each sound in the training scenes, dBFS (default -50 -12)")
    p.add_argument("--synthetic-share", type=float, help="chance that a background is synthetic rather than recorded "
                   "(doubled for water, vehicles and crowds; default 0.25; validation scenes keep the default)")
    p.add_argument("--scene-seconds", type=float, metavar="S",
                   help="length of each training scene, seconds (default 6; validation scenes stay 6 s)")
    p.add_argument("--speed", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="range of the factor that resamples half the sounds of a training scene, pitch and pace together "
                   "(default 0.85 1.18; validation scenes keep it)")
    p.set_defaults(func=cmd_train_tagger)

    p = train.add_parser("codec", help="train the streaming speech codec (reconstruction, then adversarial)")
    _add_training_options(p, "codec", steps=20000, lr=1e-3)
    p.add_argument("--adversarial-from", type=int, default=2000, help="step at which the discriminators join (-1: never)")
    p.set_defaults(func=cmd_train_codec)

    p = train.add_parser("average", help="average the weights of runs fine-tuned from one model (a model soup)")
    p.add_argument("models", nargs="+", help="model files (best.pt of each run), one kind and shape (denoisers grown apart are grown alike first)")
    p.add_argument("--out", required=True, help="the averaged model file")
    p.add_argument("--corpus", help="taggers: calibrate the soup's thresholds on this corpus's validation scenes "
                   "(default: their mean)")
    p.set_defaults(func=cmd_train_average)
    return parser


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 PID` prints every thread's stack: for a run that hangs
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    warnings.formatwarning = lambda message, *_args, **_kwargs: f"streamdl: warning: {message}\n"
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except BrokenPipeError:  # the reader went away (`streamdl tag DIR --json | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush does not raise again
        return 141  # 128 + SIGPIPE, as a shell reports it
    except StreamdlError as e:
        parser.exit(2, f"streamdl: error: {e}\n")
    except KeyboardInterrupt:
        parser.exit(130, "streamdl: interrupted\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
