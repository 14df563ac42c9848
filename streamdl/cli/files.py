"""``streamdl denoise``, ``streamdl restore``, ``streamdl tag`` and ``streamdl warmup``: the shipped models on recordings."""

from __future__ import annotations

import json
from pathlib import Path

from streamdl.cli.options import add_options, settings_from
from streamdl.engine.options import ChainOptions
from streamdl.errors import StreamdlError

DENOISER_OPTIONS = ("model", "attenuation_limit", "mix", "device", "backend")
RESTORER_OPTIONS = ("restorer_model", "device", "backend")
TAGGER_OPTIONS = ("tagger_model", "device", "backend")


def print_event(event: dict, as_json: bool, prefix: str = "") -> None:
    """One tagger event on stdout: a JSON object, or a line for people."""
    from streamdl.stages.events import describe

    print(json.dumps(event) if as_json else prefix + describe(event), flush=True)


def _process(args, command: str, options: ChainOptions) -> None:
    """``streamdl denoise`` / ``restore``: the chain of ``options`` over a file or a folder, each output named after its input."""
    from streamdl.assets import sample_path
    from streamdl.engine.files import process_files
    from streamdl.engine.pipeline import build_chain

    inputs = Path(args.input) if args.input else sample_path()
    output = Path(args.output) if args.output else Path(f"{inputs.stem}_{command}d.wav")
    if inputs.is_dir() and not args.output:
        raise StreamdlError(f"a folder of inputs needs an output folder: streamdl {command} IN_DIR OUT_DIR")
    for path in process_files(build_chain(options), inputs, output, quiet=args.quiet):
        print(f"wrote {path}")


def cmd_denoise(args) -> None:
    _process(args, "denoise", settings_from(ChainOptions, args))


def cmd_restore(args) -> None:
    _process(args, "restore", settings_from(ChainOptions, args, denoise=False, restore=True))


def cmd_tag(args) -> None:
    from streamdl.assets import sample_path
    from streamdl.engine.files import for_each_file, read_mono
    from streamdl.engine.pipeline import build_chain
    from streamdl.io.audiofile import find_audio_files
    from streamdl.stages.tagger import tag_signal

    files = find_audio_files(Path(args.input) if args.input else sample_path())
    tagger = build_chain(settings_from(ChainOptions, args, denoise=False, tag=True)).named("tagger")
    rate = tagger.config.stft.sample_rate

    def one(path: Path) -> None:
        result = {"file": str(path), **tag_signal(tagger, read_mono(path, rate), rate, name=str(path))}
        if args.json:
            print(json.dumps(result), flush=True)
            return
        top = sorted(result["clip_scores"].items(), key=lambda kv: -kv[1])[:3]
        print(f"{path}  ({result['duration_s']:.1f} s)  " + ", ".join(f"{label} {score:.2f}" for label, score in top))
        for event in result["events"]:
            print_event(event, False, "  ")

    for_each_file(files, one)


def cmd_warmup(args) -> None:
    from streamdl.engine.pipeline import warm_up

    print(f"kernels ready in {warm_up():.1f} s (compiled once, then loaded from Numba's cache)")


def add_commands(sub) -> None:
    p = sub.add_parser("warmup", help="compile the Numba kernels once, so that the first real run starts at once")
    p.set_defaults(func=cmd_warmup)


    p = sub.add_parser("denoise", help="remove background noise from speech files")
    p.add_argument("input", nargs="?", help="audio file or folder (default: the bundled noisy sample)")
    p.add_argument("output", nargs="?", help="output file or folder (default: INPUT_denoised.wav here)")
    add_options(p, ChainOptions, DENOISER_OPTIONS)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_denoise)

    p = sub.add_parser("restore", help="restore damaged speech files: rebuild the high band of band-limited speech (telephone, voice messages)")
    p.add_argument("input", help="audio file or folder")
    p.add_argument("output", nargs="?", help="output file or folder (default: INPUT_restored.wav here)")
    add_options(p, ChainOptions, RESTORER_OPTIONS)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("tag", help="tag sounds in audio files: clip scores and timed events")
    p.add_argument("input", nargs="?", help="audio file or folder (default: the bundled sample)")
    p.add_argument("--json", action="store_true", help="one JSON object per file and line")
    add_options(p, ChainOptions, TAGGER_OPTIONS)
    p.set_defaults(func=cmd_tag)
