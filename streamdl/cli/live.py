"""``streamdl run``, ``streamdl devices``, ``streamdl virtual-mic`` and ``streamdl demo``: live audio."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from streamdl.cli.files import print_event
from streamdl.cli.options import add_options, settings_from
from streamdl.engine.options import ChainOptions, LiveOptions


def cmd_devices(args) -> None:
    from streamdl.engine.devices import list_devices

    print(list_devices())


def cmd_run(args) -> None:
    from streamdl.engine.pipeline import build_chain, open_engine, run_live

    engine = open_engine(build_chain(settings_from(ChainOptions, args)), settings_from(LiveOptions, args))
    tty = sys.stderr.isatty()
    status = (lambda line: print("\r" + line, end="", file=sys.stderr, flush=True)) if tty else (lambda line: None)
    try:
        run_live(engine, seconds=args.seconds, on_event=lambda event: print_event(event, args.json, "\r" if tty else ""), on_status=status)
    finally:
        if tty:
            print(file=sys.stderr)
        print(engine.status_line(), file=sys.stderr)
        if args.stats_json:
            Path(args.stats_json).write_text(json.dumps(engine.stats(), indent=1) + "\n")


def cmd_demo(args) -> None:
    from streamdl.demo import run_demo

    run_demo(settings_from(LiveOptions, args, loop=True), seconds=args.seconds, screenshot=Path(args.screenshot) if args.screenshot else None)
    if args.screenshot:
        print(f"wrote {args.screenshot}")


def cmd_virtual_mic(args) -> None:
    from streamdl import service

    if args.action == "install":
        run_args = args.run_options if "--virtual-mic" in args.run_options else ["--virtual-mic", *args.run_options]
        run = _add_run_options(argparse.ArgumentParser(prog="streamdl run")).parse_args(run_args)
        settings_from(LiveOptions, run)  # the service's options checked now, not at the next login
        settings_from(ChainOptions, run)
        print(service.install(run_args))
    else:
        print(service.uninstall() if args.action == "uninstall" else service.status())


def _add_run_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Every option of `streamdl run` (and of the service that runs it)."""
    add_options(parser, LiveOptions)
    add_options(parser, ChainOptions)
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--json", action="store_true", help="with --tag: one JSON object per event and line")
    parser.add_argument("--stats-json", metavar="FILE", help="write stream statistics (xruns, latency) here at exit")
    return parser


def add_commands(sub) -> None:
    p = sub.add_parser("devices", help="list audio devices")
    p.set_defaults(func=cmd_devices)

    p = _add_run_options(sub.add_parser("run", help="process live audio: microphone in, denoised audio out"))
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("virtual-mic", help="the virtual microphone as a service of your login session (systemd --user)")
    p.add_argument("action", choices=["install", "uninstall", "status"], help="install (with the run options that follow), uninstall, status")
    p.add_argument("run_options", nargs=argparse.REMAINDER, help="options of 'streamdl run' for the service, e.g. -i 2 --attenuation-limit 12")
    p.set_defaults(func=cmd_virtual_mic)

    p = sub.add_parser("demo", help="desktop window: live spectrograms, controls, latency (needs the demo extra)")
    add_options(p, LiveOptions, ("input", "input_file", "output"))  # no microphone named: the file (the bundled sample) in a loop
    p.add_argument("--seconds", type=float, default=0.0, help="close after this long (default: when the window closes)")
    p.add_argument("--screenshot", metavar="PNG", help="save the window as it looks at the end (offscreen if there is no display)")
    p.set_defaults(func=cmd_demo)
