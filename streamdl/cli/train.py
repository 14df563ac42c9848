"""``streamdl train``: training each model, and averaging runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from streamdl.cli.options import add_options, settings_from
from streamdl.errors import StreamdlError
from streamdl.training.configs import CodecTrainConfig, DenoiserTrainConfig, RestorerTrainConfig, TaggerTrainConfig


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


def cmd_train(args) -> None:
    from streamdl.training import codec, denoiser, restorer, tagger

    train = {"denoiser": denoiser.train_denoiser, "tagger": tagger.train_tagger, "codec": codec.train_codec,
             "restorer": restorer.train_restorer}[args.model]  # fmt: skip
    _finish_training(train(settings_from(args.settings, args), resume=args.resume))


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


def cmd_export(args) -> None:
    from streamdl.models.checkpoint import export_weights
    from streamdl.models.weights import is_weights_file

    if not is_weights_file(args.output):
        raise StreamdlError(f"{args.output}: a weights file's name ends in .npz")
    kind = export_weights(args.model, args.output, band_gain_db=args.band_gain_db)
    print(f"wrote {args.output}: the {kind} of {args.model} as a weights file (readable without PyTorch)")


def add_commands(sub) -> None:
    p = sub.add_parser("export", help="write a model file (a training checkpoint) as a weights file (.npz) that loads without PyTorch")
    p.add_argument("model", help="model file: best.pt of a run, or the output of 'streamdl train average'")
    p.add_argument("output", help="the weights file to write (.npz)")
    p.add_argument("--band-gain-db", type=float, metavar="DB", help="restorers: the level the rebuilt band plays at, in dB against the level "
                   "the network sets (default: the model file's)")  # fmt: skip
    p.set_defaults(func=cmd_export)


    train = sub.add_parser("train", help="train a model").add_subparsers(dest="model", required=True)
    for kind, settings, what in (("denoiser", DenoiserTrainConfig, "the causal denoiser"), ("tagger", TaggerTrainConfig, "the streaming sound tagger"),
                                 ("codec", CodecTrainConfig, "the streaming speech codec (reconstruction, then adversarial)"),
                                 ("restorer", RestorerTrainConfig, "the speech restorer (band-limited speech; spectral, then adversarial)")):  # fmt: skip
        p = train.add_parser(kind, help=f"train {what} on a corpus")
        add_options(p, settings)
        p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
        p.set_defaults(func=cmd_train, settings=settings)

    p = train.add_parser("average", help="average the weights of runs fine-tuned from one model (a model soup)")
    p.add_argument("models", nargs="+", help="model files (best.pt of each run), one kind and shape (denoisers grown apart are grown alike first)")
    p.add_argument("--out", required=True, help="the averaged model file")
    p.add_argument("--corpus", help="taggers: calibrate the soup's thresholds on this corpus's validation scenes (default: their mean)")
    p.set_defaults(func=cmd_train_average)
