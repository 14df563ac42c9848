"""``streamdl data``: building training corpora and evaluation pairs."""

from __future__ import annotations

import json
from pathlib import Path

from streamdl.errors import StreamdlError


def cmd_data_build(args) -> None:
    from streamdl.data.corpus import build_corpus
    from streamdl.data.sources import ADMITTED_SOURCES, EXTRA_SOURCES, SOURCES, TTS_SOURCE, user_sources

    sources = ((() if args.no_debian else SOURCES) + (EXTRA_SOURCES if args.extra_sources else ()) + (ADMITTED_SOURCES if args.admitted else ())
               + ((TTS_SOURCE,) if args.synthetic_speech else ()) + user_sources(speech=args.speech, noise=args.noise))  # fmt: skip
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


def cmd_data_pairs(args) -> None:
    from streamdl.data.pairs import write_evaluation_pairs

    seed = {} if args.seed is None else {"seed": args.seed}  # without it, the pairs' default draw
    write_evaluation_pairs(Path(args.corpus), Path(args.out), split=args.split, count=args.count, snrs_db=tuple(args.snr_db),
                           noise_dir=Path(args.noise) if args.noise else None, **seed)  # fmt: skip
    print(f"wrote {args.count} pairs to {args.out}/clean and {args.out}/noisy")


def add_commands(sub) -> None:
    data = sub.add_parser("data", help="training data").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("build", help="decode audio sources into a training corpus")
    p.add_argument("--packages", default="data/debian", help="folder of unpacked Debian packages (scripts/fetch_debian_audio.sh)")
    p.add_argument("--out", default="data/corpus", help="corpus folder to write")
    p.add_argument("--speech", action="append", default=[], metavar="DIR", help="your own clean speech folder (repeatable)")
    p.add_argument("--noise", action="append", default=[], metavar="DIR", help="your own noise folder (repeatable)")
    p.add_argument("--no-debian", action="store_true", help="use only the --speech/--noise folders")
    p.add_argument("--extra-sources", action="store_true", help="also read the recorded ambiences beyond shared/DATA.md's list "
                   "(EXTRA_SOURCES in streamdl/data/sources.py; fetch them with scripts/fetch_debian_audio.sh DEST --extra)")  # fmt: skip
    p.add_argument("--admitted", action="store_true", help="also read the sources shared/DATA.md admitted on 2026-12-07 that need no "
                   "extractor yet (ADMITTED_SOURCES; fetch them with scripts/fetch_debian_audio.sh DEST --admitted)")  # fmt: skip
    p.add_argument("--synthetic-speech", action="store_true", help="also read the synthetic voices 'streamdl data tts' "
                   "rendered into the packages folder (training and validation only)")  # fmt: skip
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
    p.add_argument("--snr-db", type=float, nargs="+", default=[0.0, 5.0, 10.0], metavar="DB",
                   help="the SNRs the pairs cycle through (default 0 5 10)")
    p.add_argument("--seed", type=int, help="another seed draws another set of pairs from the same speech and noise "
                   "(default 2026: the README's pairs)")  # fmt: skip
    p.set_defaults(func=cmd_data_pairs)
