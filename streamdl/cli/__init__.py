"""The ``streamdl`` command line: a module per command group, each a thin layer over the library.

Options that set a chain, a live stream or a training run come from those settings classes
(:mod:`streamdl.cli.options`), so defaults and checks live in one place.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import warnings

from streamdl.cli import codec, data, files, live, measure, train
from streamdl.errors import StreamdlError

COMMAND_GROUPS = (files, live, measure, data, train, codec)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamdl", description="Real-time audio processing with deep learning.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('streamdl').__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 PID` prints every thread's stack: for a run that hangs
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # unwinds: recordings finalized, a virtual microphone removed
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
    except ModuleNotFoundError as e:
        if e.name != "torch":
            raise
        parser.exit(2, "streamdl: error: this needs PyTorch, which the shipped models do not: pip install 'streamdl[torch]'\n")
    except KeyboardInterrupt:
        parser.exit(130, "streamdl: interrupted\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
