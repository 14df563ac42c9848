"""The one place that builds what streamdl runs: a chain of stages from options, and a live engine around it.

The command line, the desktop demo, the bench and the examples all build through here, so a
setting means the same everywhere: :func:`build_chain` makes the chain that
:class:`~streamdl.engine.options.ChainOptions` describes, :func:`open_engine` the live engine
between the endpoints :class:`~streamdl.engine.options.LiveOptions` names, and :func:`run_live`
runs it until it is told to stop, handing tagger events and status lines to the caller.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from streamdl.engine.chain import Chain, Tap
from streamdl.engine.endpoints import DeviceInput, DeviceOutput, FileInput
from streamdl.engine.live import LiveEngine
from streamdl.engine.options import ChainOptions, LiveOptions
from streamdl.errors import StreamdlError
from streamdl.stages.denoiser import StreamingDenoiser
from streamdl.stages.repair import StreamingRepair
from streamdl.stages.restorer import StreamingRestorer
from streamdl.stages.tagger import StreamingTagger


def build_chain(options: ChainOptions = ChainOptions(), *, taps: list[Tap] = (), output_taps: list[Tap] = (),
                models: dict | None = None) -> Chain:  # fmt: skip
    """The chain ``options`` describe: the repair of clipping and gaps (with the restorer, before the STFT), the tagger
    (a tap on the input), then the denoiser, the restorer, the codec.

    ``taps`` and ``output_taps`` join the chain's own (spectrum monitors, say); ``models`` gives a
    stage kind ("denoiser", "restorer", "tagger", "codec") a PyTorch model instead of the options' file or the shipped one.
    Stages are named by their kind: ``chain.named("tagger")``.
    """
    models = {"denoiser": options.model or None, "restorer": options.restorer_model or None, "tagger": options.tagger_model or None,
              "codec": options.codec_model or None, **(models or {})}  # a stage given no model loads the shipped one  # fmt: skip
    where = {"device": options.device, "backend": options.backend}
    stages, chain_taps, signal_stages, input_stages = [], list(taps), [], []
    if options.tag:
        chain_taps.append(StreamingTagger(models["tagger"], **where))
    if options.denoise:
        stages.append(StreamingDenoiser(models["denoiser"], **where, attenuation_limit_db=options.attenuation_limit, mix=options.mix))
    if options.restore:
        input_stages.append(StreamingRepair())
        stages.append(StreamingRestorer(models["restorer"], **where))
    if options.codec:
        from streamdl.stages.codec import StreamingCodec

        backend = "auto" if options.backend == "onnx" else options.backend  # a runtime the codec lacks: its fastest instead
        signal_stages.append(StreamingCodec(models["codec"], kbps=options.codec, device=options.device, backend=backend))
    return Chain(stages=stages, taps=chain_taps, output_taps=list(output_taps), signal_stages=signal_stages, input_stages=input_stages)


def open_engine(chain: Chain, options: LiveOptions = LiveOptions()) -> LiveEngine:
    """A :class:`~streamdl.engine.live.LiveEngine` running ``chain`` between the endpoints ``options`` name."""
    path = options.input_file
    if not path and options.input and Path(options.input).is_file():  # the old spelling, still accepted for a while
        warnings.warn(f"-i {options.input}: reading a file with -i is going away; use --input-file {options.input}", FutureWarning, stacklevel=2)
        path = options.input
    sink = None
    if options.virtual_mic:  # first: it binds PipeWire's JACK library before PortAudio loads one
        from streamdl.engine.pulse_mic import PulseVirtualMicrophone
        from streamdl.engine.virtual_mic import VirtualMicrophone, on_pipewire

        sink = (VirtualMicrophone if on_pipewire() else PulseVirtualMicrophone)(options.virtual_mic)
    try:
        source = FileInput(path, loop=options.loop) if path else DeviceInput(options.input or None, options.channel)
        if not options.virtual_mic and options.play:
            sink = DeviceOutput(options.output or None)
        return LiveEngine(chain, source, sink, blocksize=options.blocksize, record=options.record or None)
    except BaseException:
        if hasattr(sink, "stop"):  # a virtual microphone made already: never left behind
            sink.stop()
        raise


def run_live(engine: LiveEngine, *, seconds: float = 0.0, on_event: Callable[[dict], None] = lambda event: None,
             on_status: Callable[[str], None] = lambda line: None, on_notice: Callable[[str], None] = lambda line: print(f"streamdl: {line}", file=sys.stderr),
             poll_s: float = 0.05, status_every_s: float = 0.5) -> dict:  # fmt: skip
    """Run ``engine`` until ``seconds`` have passed (0: no limit), its source has ended and drained, or
    Ctrl-C; meanwhile hand each tagger event to ``on_event``, a status line to ``on_status`` every
    ``status_every_s``, and a line to ``on_notice`` when a microphone goes away or comes back (its
    stream is opened again, see :meth:`LiveEngine.keep_input`). Always stops the engine (finalizing a recording) and ends open events; returns
    :meth:`LiveEngine.stats`. A failure in the worker is raised as a one-line StreamdlError."""
    tagger = engine.chain.named("tagger")
    shown = 0.0
    try:
        engine.start()
        while (not seconds or engine.elapsed < seconds) and not engine.done:
            time.sleep(poll_s)
            if isinstance(engine.error, StreamdlError):
                raise engine.error
            if engine.error is not None:
                raise StreamdlError(f"processing stopped: {type(engine.error).__name__}: {engine.error}")
            while tagger is not None and tagger.events:
                on_event(tagger.events.popleft())
            notice = engine.keep_input()
            if notice:
                on_notice(notice)
            if time.monotonic() - shown > status_every_s:
                shown = time.monotonic()
                on_status(engine.status_line())
    finally:
        engine.stop()
        if tagger is not None:
            tagger.finish()
            while tagger.events:
                on_event(tagger.events.popleft())
    return engine.stats()


def warm_up() -> float:
    """Compile (or load from Numba's cache) every kernel the default chains run: the STFT pair, the
    shipped denoiser's and tagger's, the live resampler and concealment, the restorer's and its repair's
    (on a clipped tone with a gap); returns the seconds it took."""
    from streamdl.dsp.conceal import ReadyContinuation
    from streamdl.dsp.resample import StreamResampler

    start = time.perf_counter()
    build_chain(ChainOptions(tag=True)).process(np.zeros(160, np.float32))
    StreamResampler(48000, 16000)
    ReadyContinuation(48000, 2)
    tone = np.clip(np.sin(np.arange(4800) * 0.1), -0.5, 0.5).astype(np.float32)
    tone[2400:3000] = 0.0
    restore = build_chain(ChainOptions(denoise=False, restore=True))
    for hop in tone.reshape(-1, 160):
        restore.process(hop)
    return time.perf_counter() - start
