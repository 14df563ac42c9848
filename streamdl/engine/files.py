"""Files through the streaming chain: any rate and channel count in, same rate, length and channels out.

Long files stream: each channel is read, resampled to the chain's rate and back, and processed in
segments of ``SEGMENT_S`` seconds, each resampled with ``CONTEXT_S`` seconds of context on both
sides (so the result is that of resampling the whole file at once), so memory does not grow
with the file's length.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from streamdl.dsp.resample import fitted, resample
from streamdl.engine.chain import Chain, Streamer
from streamdl.engine.fullband import TopBandGain, gain_ramp
from streamdl.errors import StreamdlError
from streamdl.io.audiofile import AudioFileSink, AudioFileSource, check_output_name, find_audio_files

SEGMENT_S = 30  # seconds of one channel resampled and processed at a time
CONTEXT_S = 1  # seconds each side of a segment that its resampling sees
T = TypeVar("T")


def process_channel(chain: Chain, read: Callable[[int, int], np.ndarray], n: int, rate: int,
                    segment_s: int = SEGMENT_S) -> Iterator[tuple[int, np.ndarray]]:  # fmt: skip
    """One channel of ``n`` samples at ``rate`` through a fresh chain: (start, float32 samples)
    pieces in order, covering [0, n); ``read(start, stop)`` gives input samples (stop - start,).

    Resampled to the chain's rate and back (zero-phase), delay-compensated: output sample i lines
    up with input sample i. Above the chain's band (rates over 16 kHz) the input's own content is
    kept, scaled hop by hop by the gain the chain gave its top band (:mod:`streamdl.engine.fullband`,
    as live streams do), so wideband audio stays wideband.
    """
    meter = TopBandGain(chain.config) if rate > chain.config.sample_rate else None
    if meter is not None:
        meter.attach(chain)
    try:
        yield from _through_chain(chain, read, n, rate, segment_s, meter)
    finally:
        if meter is not None:
            meter.detach(chain)


def _through_chain(chain: Chain, read: Callable[[int, int], np.ndarray], n: int, rate: int, segment_s: int,
                   meter: TopBandGain | None) -> Iterator[tuple[int, np.ndarray]]:  # fmt: skip
    """:func:`process_channel`'s work, with ``meter`` (rates above the chain's) measuring its top band."""
    m, ctx = chain.config.sample_rate, CONTEXT_S * rate
    at_m = _index_map(n, rate, m)
    streamer = Streamer(chain)
    streamer.reset()
    x = y = g = np.zeros(0, np.float32)  # chain-rate input, aligned output and its top-band gain, from chain-rate index `base` on
    base, skip, todo, last_gain = 0, chain.delay_samples, [], 1.0  # todo: (start, input samples) of segments not yet sent back
    for a, raw, x_new in resampled_segments(read, n, rate, m, segment_s):
        b = a + len(raw)
        y_new = streamer.feed(x_new) if b < n else np.concatenate([streamer.feed(x_new), streamer.flush()])
        g_new, last_gain = gain_ramp(meter.take(), last_gain, chain.hop) if meter is not None else (np.ones(len(y_new), np.float32), 1.0)
        drop = min(skip, len(y_new))  # the chain's delay, once
        skip -= drop
        x, y, g = np.concatenate([x, x_new]), np.concatenate([y, y_new[drop:]]), np.concatenate([g, g_new[drop:]])
        y, g = y[: len(x)], g[: len(x)]
        todo.append((a, raw))
        while todo and (b == n or at_m(min(n, todo[0][0] + len(todo[0][1]) + ctx)) <= base + len(y)):
            a0, raw0 = todo.pop(0)
            lo, hi = max(0, a0 - ctx), min(n, a0 + len(raw0) + ctx)
            part = slice(at_m(lo) - base, at_m(hi) - base)
            yield a0, _back_to_rate(x[part], y[part], g[part], raw0, a0 - lo, m, rate)
            keep = at_m(max(0, todo[0][0] - ctx)) if todo else base + len(x)  # what later segments still need
            x, y, g, base = x[keep - base :], y[keep - base :], g[keep - base :], keep


def resampled_segments(read: Callable[[int, int], np.ndarray], n: int, rate: int, to_rate: int,
                       segment_s: int = SEGMENT_S) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:  # fmt: skip
    """(start, samples at ``rate``, the same resampled to ``to_rate``) for [0, n) in segments of
    ``segment_s`` seconds, each resampled with ``CONTEXT_S`` seconds of context: the resampled pieces
    join to the whole signal resampled at once. ``read(start, stop)`` gives input samples (stop - start,),
    each read once."""
    seg, ctx = segment_s * rate, CONTEXT_S * rate  # whole seconds: integer sample counts at both rates
    at = _index_map(n, rate, to_rate)
    for a in range(0, n, seg):
        b = min(n, a + seg)
        lo, hi = max(0, a - ctx), min(n, b + ctx)
        x = read(lo, hi)
        yield a, x[a - lo : b - lo], resample(x, rate, to_rate)[at(a) - at(lo) : at(b) - at(lo)]


def _index_map(n: int, rate: int, to_rate: int) -> Callable[[int], int]:
    """Sample index at ``rate`` (whole seconds, or the end n) -> the same instant's index at ``to_rate``."""
    return lambda i: round(n * to_rate / rate) if i >= n else i * to_rate // rate


def _back_to_rate(x: np.ndarray, y: np.ndarray, gain: np.ndarray, original: np.ndarray, offset: int, m: int, rate: int) -> np.ndarray:
    """Chain output ``y`` (for input ``x``, both at rate m) back at ``rate``: the samples from
    ``offset`` on, as many as ``original`` (the input there), plus its highs above the chain's band,
    scaled by ``gain`` (the chain's top-band gain, per sample of ``y``)."""
    n = len(original)
    out = fitted(resample(y, m, rate)[offset:], n)
    if rate > m and len(x) > 1:
        highs = original - fitted(resample(x, m, rate)[offset:], n)
        out = out + highs * np.interp((offset + np.arange(n)) * m / rate, np.arange(len(gain)), gain).astype(np.float32)
    return out



def process_array(chain: Chain, audio: np.ndarray, rate: int) -> np.ndarray:
    """float32 (frames, channels) at ``rate`` -> the same shape, each channel through the chain
    (see :func:`process_channel`), clipped to [-1, 1]."""
    out = np.empty_like(audio)
    for ch in range(audio.shape[1]):
        for start, piece in process_channel(chain, lambda a, b, ch=ch: audio[a:b, ch], len(audio), rate):
            out[start : start + len(piece), ch] = piece
    return np.clip(out, -1.0, 1.0)


def process_file(chain: Chain, src: Path, dst: Path) -> None:
    """One audio file through the chain into ``dst`` (same rate, length and channels; the format its suffix names).

    Channels run one after another through a memory-mapped scratch file beside ``dst`` (its folder
    is made if missing) into an output file staged there, opened before any work (so a format that
    cannot hold the rate fails at once) and renamed to ``dst`` once complete: an error leaves no
    half-made file.
    """
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        scratch_dir = tempfile.TemporaryDirectory(prefix=".streamdl-", dir=dst.parent)
    except OSError as e:
        raise StreamdlError(f"{dst}: cannot write there ({e.strerror}: {e.filename})") from None
    with AudioFileSource(src) as source, scratch_dir as scratch:
        staged = Path(scratch) / f"out{dst.suffix}"
        try:
            sink = AudioFileSink(staged, source.rate, source.channels)
        except StreamdlError:
            raise StreamdlError(f"{dst}: a {dst.suffix} file cannot hold {source.rate} Hz {source.channels}-channel "
                                "audio; name the output .wav or .flac") from None  # fmt: skip
        with sink:
            out = np.lib.format.open_memmap(Path(scratch) / "out.npy", "w+", np.float32, (source.frames, source.channels))
            for ch in range(source.channels):
                read = lambda a, b, ch=ch: source.read(a, b)[:, ch]  # noqa: E731
                for start, piece in process_channel(chain, read, source.frames, source.rate):
                    out[start : start + len(piece), ch] = piece
            for start in range(0, source.frames, SEGMENT_S * source.rate):
                sink.write(out[start : start + SEGMENT_S * source.rate])
        staged.replace(dst)


def read_mono(path: str | Path, rate: int) -> np.ndarray:
    """A whole audio file mixed down to mono float32 (samples,) at ``rate`` (read in segments, so
    only the result has to fit in memory)."""
    with AudioFileSource(path) as source:
        mono = lambda a, b: source.read(a, b).mean(axis=1)  # noqa: E731
        pieces = [x for _, _, x in resampled_segments(mono, source.frames, source.rate, rate)]
    return np.concatenate(pieces).astype(np.float32, copy=False)


def output_paths(inputs: Path, output: Path) -> list[tuple[Path, Path]]:
    """(input file, output file) pairs: a file to a file, or a folder to a folder mirroring it."""
    files = find_audio_files(inputs)
    if inputs.is_dir():
        if output.exists() and not output.is_dir():
            raise StreamdlError(f"{output}: input is a folder, so the output must be a folder too")
        return [(f, output / f.relative_to(inputs)) for f in files]
    if output.is_dir():
        return [(inputs, output / inputs.name)]
    return [(inputs, output)]


def process_files(chain: Chain, inputs: Path, output: Path, *, quiet: bool = False) -> list[Path]:
    """Run every audio file in ``inputs`` through ``chain``; return the files written."""
    jobs = output_paths(inputs, output)
    for _, dst in jobs:  # before hours of work, not after
        check_output_name(dst)
    written = []

    def one(job: tuple[Path, Path]) -> None:
        src, dst = job
        process_file(chain, src, dst)
        written.append(dst)

    with tqdm(total=len(jobs), unit="file", disable=quiet or len(jobs) < 2, desc="files") as bar:
        for_each_file(jobs, one, after=bar.update)
    return written


def for_each_file(jobs: Sequence[T], work: Callable[[T], None], *, after: Callable[[], object] = lambda: None) -> None:
    """``work(job)`` for each job in turn. With several, a job that raises StreamdlError is skipped
    with its one-line reason on stderr and the rest go on; then a StreamdlError says how many failed."""
    failed = 0
    for job in jobs:
        try:
            work(job)
        except StreamdlError as e:
            if len(jobs) == 1:
                raise
            failed += 1
            tqdm.write(f"streamdl: skipped: {e}", file=sys.stderr)  # clear of any progress bar
        after()
    if failed:
        raise StreamdlError(f"{failed} of {len(jobs)} files failed (reasons above); the others were done")
