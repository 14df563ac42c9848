"""``streamdl codec``: audio files to ``.sdlc`` codes and back."""

from __future__ import annotations

from pathlib import Path


def cmd_codec_encode(args) -> None:
    from streamdl.engine.files import read_mono
    from streamdl.stages.codec import encode_file, load_codec

    model = load_codec(args.model)
    info = encode_file(model, read_mono(args.input, model.config.sample_rate), args.output, args.kbps)
    size = Path(args.output).stat().st_size
    print(f"wrote {args.output}: {info.frames} frames, {info.bitrate / 1000:g} kbps of codes, {size} bytes")


def cmd_codec_decode(args) -> None:
    from streamdl.io.audiofile import write_audio
    from streamdl.stages.codec import decode_file, load_codec

    audio, info = decode_file(load_codec(args.model), args.input)
    write_audio(args.output, audio, info.sample_rate)
    print(f"wrote {args.output}: {len(audio) / info.sample_rate:.2f} s at {info.sample_rate} Hz")


def add_commands(sub) -> None:
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
