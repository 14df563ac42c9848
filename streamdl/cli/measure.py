"""``streamdl bench``, ``streamdl eval`` and ``streamdl eval-tagger``: how fast and how good."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from streamdl.cli.files import DENOISER_OPTIONS, TAGGER_OPTIONS
from streamdl.cli.options import add_options, settings_from
from streamdl.engine.options import ChainOptions


def cmd_bench(args) -> None:
    from streamdl.evaluation.bench import bench_chain, format_table, run_bench

    report = run_bench(bench_chain(settings_from(ChainOptions, args)), args.seconds)
    print(json.dumps(report) if args.json else format_table(report))


def cmd_eval(args) -> None:
    from streamdl.engine.files import process_array
    from streamdl.engine.pipeline import build_chain
    from streamdl.evaluation.speech import evaluate_folders, format_report

    chain = build_chain(settings_from(ChainOptions, args))
    report = evaluate_folders(Path(args.clean), Path(args.noisy), {"streamdl": lambda x, rate: process_array(chain, x[:, None], rate)[:, 0]})
    print(json.dumps(report) if args.json else format_report(report))


def cmd_eval_tagger(args) -> None:
    from streamdl.engine.pipeline import build_chain
    from streamdl.evaluation.tagger import evaluate_tagger, folder_clips, format_report, score_clips, write_report

    tagger = build_chain(settings_from(ChainOptions, args, denoise=False, tag=True)).named("tagger")
    if args.clips:
        report = score_clips(tagger, folder_clips(Path(args.clips)))
        if args.out:
            write_report(report, Path(args.out))
    else:
        report = evaluate_tagger(tagger, Path(args.corpus), Path(args.out) if args.out else None, scenes=args.scenes)
    print(json.dumps(report) if args.json else format_report(report))
    if args.out:
        print(f"wrote {args.out}/report.json and {args.out}/confusion.png", file=sys.stderr)


def add_commands(sub) -> None:
    p = sub.add_parser("bench", help="per-hop cost of the live chain, one thread (the same options as 'run')")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--seconds", type=float, default=10.0, help="audio seconds to time (default: 10)")
    add_options(p, ChainOptions)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("eval", help="score the denoiser on clean/noisy pairs (PESQ-WB, STOI, SI-SDR)")
    p.add_argument("--clean", required=True, help="folder of clean references")
    p.add_argument("--noisy", required=True, help="folder of noisy files with the same names")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_options(p, ChainOptions, DENOISER_OPTIONS)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("eval-tagger", help="score the tagger on held-out scenes and clips (mAP, F1, events, confusion)")
    p.add_argument("--corpus", default="data/corpus", help="corpus folder ('streamdl data build'); its held-out splits are used")
    p.add_argument("--out", metavar="DIR", help="write report.json and confusion.png here")
    p.add_argument("--scenes", type=int, default=100, help="held-out scenes to score (6 s each)")
    p.add_argument("--clips", metavar="DIR", help="instead, score top-1 on your own recordings: DIR/LABEL/*.wav (one subfolder per label)")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    add_options(p, ChainOptions, TAGGER_OPTIONS)
    p.set_defaults(func=cmd_eval_tagger)
