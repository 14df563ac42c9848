"""The live engine: a PortAudio stream, two ring buffers and a worker thread running the chain.

```
source (callback) ──► input ring ──► worker: mono, resample, chain, resample ──► output ring ──► sink (callback)
```

The callback only copies blocks in and out of the rings and counts status flags: no locks, no
model, no sample-buffer allocation. The worker pulls device hops and keeps the output ring fed.
Latency never creeps: a late worker's slots get the continuation of the last output it left ready
(:class:`~streamdl.dsp.conceal.ReadyContinuation`) and are owed; frames that arrive for them are skipped,
so every slot keeps its fixed delay. A worker with a backlog drops whole hops (counted), not stale audio.
Sources and sinks (:mod:`streamdl.engine.endpoints`) decide only what the callback copies; the
stream is opened over whichever of them are devices, or replaced by a clock when none is.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from streamdl.dsp.conceal import ReadyContinuation
from streamdl.dsp.resample import StreamResampler
from streamdl.dsp.ringbuffer import RingBuffer
from streamdl.engine.chain import Chain, Streamer
from streamdl.engine.devices import load_sounddevice
from streamdl.engine.endpoints import NO_STATUS, DeviceInput, DeviceOutput, FileInput, has_own_clock
from streamdl.engine.fullband import LiveHighs, TopBandGain, gain_ramp
from streamdl.engine.playout import SteadyPlayout
from streamdl.errors import StreamdlError
from streamdl.io.audiofile import AudioFileSink

GIL_SWITCH_INTERVAL_S = 0.0005  # while streaming: bounds how long the audio callback waits for the GIL
HOP_TIMES_KEPT = 6000  # processing times kept for the statistics: one minute of 10 ms hops
INPUT_LOST_S = 1.0  # a capture device silent this long has gone away: its stream is opened again
REOPEN_EVERY_S = 2.0  # how often a lost device's stream is tried again


class LiveEngine:
    """Runs ``chain`` on live audio: source -> chain -> sink (and/or a recording).

    Args:
        chain: the processing chain (its STFT config fixes the model rate, 16 kHz by default).
        source: a :class:`~streamdl.engine.endpoints.DeviceInput` (default: the default microphone)
            or a :class:`~streamdl.engine.endpoints.FileInput` played as a microphone.
        sink: a :class:`~streamdl.engine.endpoints.DeviceOutput`, or None to play nothing (the
            result can still be recorded).
        blocksize: device frames per callback (default: one hop at the device rate).
        prefill_blocks: output blocks queued before starting (the last one at least a hop): the worker's
            time budget, and the margin for callbacks that PortAudio runs back to back after a device xrun.
        record: a wav/flac path that receives the processed audio at the model rate.

    The stream runs at the first device's rate (a rate the model does not run at is resampled), or at
    the file's own rate on a clock when no device takes part. ``finished`` turns True once a source
    that ends has been processed to its end, ``done`` once its output has drained too.
    """

    def __init__(self, chain: Chain, source: DeviceInput | FileInput | None = None, sink: DeviceOutput | None = None, *,
                 blocksize: int | None = None, prefill_blocks: int = 2, record: str | Path | None = None,
                 ring_seconds: float = 1.0):  # fmt: skip
        self.chain = chain
        self.model_rate = chain.config.sample_rate
        self.source = source if source is not None else DeviceInput()
        self.sink = sink
        self.play = sink is not None
        self._clocked_sink = has_own_clock(sink)  # a sink with a clock of its own (a virtual microphone's graph)
        clocks = [e for e in (sink, self.source) if e is not None and (e.device is not None or has_own_clock(e))]  # the sink's first:
        first, *others = sorted(clocks, key=lambda e: not has_own_clock(e)) or [self.source]  # a graph's rate is not ours to pick
        self.rate = first.rate(self.model_rate)
        if any(other.rate(self.rate) != self.rate for other in others):
            raise StreamdlError(f"input and output devices share no sample rate ({self.rate} Hz); pick devices on the same card")
        self.hop_device = round(chain.hop * self.rate / self.model_rate)  # device frames per model hop
        self.blocksize = blocksize or getattr(sink, "blocksize", None) or self.hop_device  # a graph's cycle, or one hop
        self.source.open(self.rate, self.blocksize)
        ring = max(int(ring_seconds * self.rate), 4 * self.blocksize)
        self._in_ring = RingBuffer(ring, self.source.channels)
        self._out_ring = RingBuffer(ring, sink.channels if sink is not None else 1)
        self._in_block = np.zeros((self.hop_device, self.source.channels), np.float32)  # worker's read buffer
        self._max_backlog = max(4 * self.hop_device, 2 * self.blocksize)  # more waiting: the worker fell behind
        # the worker turns whole hops around: a block that is not a hop may find one block and a hop queued at the least
        self.prefill = (prefill_blocks - 1) * self.blocksize + max(self.blocksize, self.hop_device)
        self._playout = SteadyPlayout(self._out_ring, self.prefill, window=self.rate, tolerance=self.hop_device // 4)
        self._streamer = Streamer(chain)
        self._to_model = StreamResampler(self.rate, self.model_rate)
        self._to_device = StreamResampler(self.model_rate, self.rate)
        # above the model's rate the output keeps the input's highs, scaled by the chain's top-band gain
        self._highs = LiveHighs(chain, self.rate, self._to_model) if self.play and self.rate > self.model_rate else None
        self._top_band = TopBandGain(chain.config) if self._highs is not None else None
        self._last_gain = 1.0
        self._ready = ReadyContinuation(self.rate, self._out_ring.channels)  # for the callback while the worker is late
        self._record_path = record
        # counters: each written by one side only (callback or worker)
        self.callbacks = 0
        self.pa_input_overflows = 0
        self.pa_output_underflows = 0
        self._missing_out = 0  # output frames played as zeros (callback)
        self._skipped_out = 0  # late output frames skipped to hold the delay (callback)
        self.worker_skipped = 0  # input frames the worker dropped to catch up (worker)
        self._hop_times = np.zeros(HOP_TIMES_KEPT)  # seconds per model hop, the latest minute (worker)
        self._hops = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._stream = None
        self._recording = None
        self._started = 0.0
        self._device_latency = 0.0
        self._error: BaseException | None = None
        self.realtime = False  # whether the worker got real-time scheduling
        self.finished = False  # a source that ends has been processed to its end
        self.input_lost = False  # a capture device stopped delivering and is being opened again
        self._captured_at = self._reopened_at = 0.0
        self._switch_interval: float | None = None

    # ---- audio thread -------------------------------------------------------------------
    def _callback(self, indata, outdata, frames, time_info, status):
        """PortAudio callback: capture in, copy out, count. Never blocks, allocates or raises."""
        self.callbacks += 1
        if status.input_overflow:
            self.pa_input_overflows += 1
        if status.output_underflow:
            self.pa_output_underflows += 1
        if indata is not None and self._clocked_sink and self.sink.hears_itself:
            indata.fill(0.0)  # the capture is fed from our own virtual microphone: no loop
        self._in_ring.write(self.source.capture(indata, frames))
        self._captured_at = time.monotonic()
        if outdata is None:
            return
        # Every input frame owns one output slot. The worker queues zeros in place of the hops it drops,
        # so the output ring stays in input order; frames the input ring could not store leave slots
        # that must be played as silence; slots already played as silence because the worker was late
        # leave frames that must be skipped when they arrive.
        owed = self._missing_out - self._in_ring.overflow_frames - self._skipped_out
        if owed > 0:
            self._skipped_out += self._out_ring.skip(owed)
        silence = min(frames, -owed) if owed < 0 else 0
        outdata[:silence] = 0.0
        got = self._out_ring.read(outdata[silence:])
        self._missing_out += frames - got
        self._ready.play(outdata, silence, got)

    def _play_callback(self, indata, outdata, frames, time_info, status):
        """Playback on a clock of its own (a virtual microphone while a device captures), at a steady delay."""
        self.callbacks += 1
        self._playout.play(outdata)

    def _input_callback(self, indata, frames, time_info, status):
        self._callback(indata, None, frames, time_info, status)

    def _output_callback(self, outdata, frames, time_info, status):
        self._callback(None, outdata, frames, time_info, status)

    def _clock(self) -> None:
        """With no device in the stream: the callback once per block, at the stream's rate in real time."""
        due = time.monotonic()
        while not self._stop.is_set():
            due += self.blocksize / self.rate
            self._stop.wait(max(0.0, due - time.monotonic()))
            self._callback(None, None, self.blocksize, None, NO_STATUS)

    # ---- worker thread ------------------------------------------------------------------
    @staticmethod
    def _realtime_priority() -> bool:
        """Ask for SCHED_FIFO (below JACK's usual 70) for the calling thread; False when not allowed."""
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
            return True
        except (AttributeError, PermissionError, OSError):
            return False

    def _work(self) -> None:
        self.realtime = self._realtime_priority()
        try:
            while not self._stop.is_set():
                if not self._pump_input():
                    if self.source.finished and not self.finished:
                        self._emit(self._streamer.flush())  # the chain's delay, out
                        self._ready.clear()  # the end is followed by silence
                        self.finished = True
                    time.sleep(0.0005)
        except BaseException as e:  # reported by run(); the stream keeps playing zeros meanwhile
            self._error = e

    def _pump_input(self) -> bool:
        """Process one hop of captured input; False when less than a hop is waiting. A worker that
        fell behind drops whole hops first (keeping the newest) and queues silence in their place."""
        backlog = self._in_ring.readable
        if backlog > self._max_backlog:
            dropped = self._in_ring.skip((backlog - self.hop_device) // self.hop_device * self.hop_device)
            self.worker_skipped += dropped
            self._streamer.reset()
            if self.play:  # behind the late output already queued, so the ring stays in input order
                self._out_ring.write(np.zeros((dropped, self._out_ring.channels), np.float32))
        if self._in_ring.readable < self.hop_device:
            return False
        self._in_ring.read(self._in_block)
        block = self.source.mono(self._in_block)
        x = self._to_model(block)
        self._process(x, self._highs(block, x) if self._highs is not None else None)
        return True

    def _process(self, x: np.ndarray, highs: np.ndarray | None = None) -> None:
        """Model-rate samples through the chain to the recording and the output ring; ``highs``: the input's band above it."""
        start = time.perf_counter()
        y = self._streamer.feed(x)
        if len(y):
            self._hop_times[self._hops % HOP_TIMES_KEPT] = (time.perf_counter() - start) * self.chain.hop / len(y)
            self._hops += 1
        self._emit(y, highs)

    def _emit(self, y: np.ndarray, highs: np.ndarray | None = None) -> None:
        """Processed model-rate samples to the recording and the output ring."""
        if self._recording is not None and len(y):
            self._recording.write(y)
        if self.play:
            z = self._to_device(y)
            if highs is not None:
                gain, self._last_gain = gain_ramp(self._top_band.take(), self._last_gain, self.hop_device)
                n = min(len(z), len(highs), len(gain))
                z[:n] = np.clip(z[:n] + gain[:n] * highs[:n], -1.0, 1.0)
            self._out_ring.write(np.repeat(z[:, None], self._out_ring.channels, axis=1))
            self._ready.follow(z)

    # ---- control ------------------------------------------------------------------------
    def start(self) -> None:
        # The callback thread needs the GIL; by default a waiting thread may wait 5 ms for it.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        gc.collect()
        gc.freeze()  # objects alive now are never scanned again: no long collection inside a callback
        self._streamer.reset()
        if self._top_band is not None:
            self._top_band.attach(self.chain)
        if self.play:
            self._out_ring.write(np.zeros((self.prefill, self._out_ring.channels), np.float32))
        if self._record_path is not None:
            self._recording = AudioFileSink(self._record_path, self.model_rate, 1)
        try:
            self._stream = self._open_stream()
        except StreamdlError:
            self.stop()
            raise
        self._threads = [threading.Thread(target=self._work, name="streamdl-worker", daemon=True)]
        if self._stream is None and not self._clocked_sink:
            self._threads.append(threading.Thread(target=self._clock, name="streamdl-clock", daemon=True))
        for thread in self._threads:
            thread.start()
        self._started = self._captured_at = time.monotonic()
        if self._clocked_sink:  # its clock drives the capture too, unless a device captures on its own clock
            self.sink.start(self._play_callback if self.source.device is not None else self._callback)
        if self._stream is not None:
            self._stream.start()
            latency = self._stream.latency  # seconds: (input, output) for a duplex stream
            self._device_latency = float(sum(latency) if isinstance(latency, tuple) else latency)

    def _open_stream(self):
        """One PortAudio stream over the endpoints that are devices (duplex, input or output), or None."""
        ends = [(e, kind) for e, kind in ((self.source, "input"), (self.sink, "output")) if e is not None and e.device is not None]  # PortAudio's
        if not ends:
            return None
        sd = load_sounddevice()
        kinds = tuple(kind for _, kind in ends)
        stream_class, callback = {("input", "output"): (sd.Stream, self._callback), ("input",): (sd.InputStream, self._input_callback),
                                  ("output",): (sd.OutputStream, self._output_callback)}[kinds]  # fmt: skip
        devices, channels = [e.device for e, _ in ends], [e.channels for e, _ in ends]
        try:
            return stream_class(device=devices if len(ends) > 1 else devices[0], channels=channels if len(ends) > 1 else channels[0],
                                samplerate=self.rate, blocksize=self.blocksize, dtype="float32", latency="low", callback=callback)  # fmt: skip
        except sd.PortAudioError as e:
            raise StreamdlError(f"cannot open the audio stream ({e}); check the devices with 'streamdl devices'") from None

    def stop(self) -> None:
        """Stop the stream (and remove a virtual microphone), then the worker, then finalize the recording.
        Safe to call twice."""
        if self._stream is not None:
            self._stream.abort()  # at once: a device that vanished would hold a stop() forever
            self._stream.close()
            self._stream = None
        if self._clocked_sink:
            self.sink.stop()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self._recording is not None:
            self._recording.close()
            self._recording = None
        if self._top_band is not None:
            self._top_band.detach(self.chain)
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    def __enter__(self) -> LiveEngine:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def keep_input(self) -> str:
        """Called now and then from the controlling thread: when a capture device has delivered nothing for
        ``INPUT_LOST_S`` (a microphone unplugged, its node gone), open its stream again every
        ``REOPEN_EVERY_S`` until audio flows; meanwhile the output plays silence. Returns a line to
        show when the input was lost or came back, else ""."""
        if self.source.device is None or not self._started:
            return ""
        now = time.monotonic()
        if now - self._captured_at < INPUT_LOST_S:  # flowing; after a loss, for a while since the stream was opened
            if self.input_lost and now - self._reopened_at > INPUT_LOST_S:
                self.input_lost = False
                return "the microphone is back"
            return ""
        if now - self._reopened_at < REOPEN_EVERY_S:
            return ""
        said = "" if self.input_lost else "the microphone went away; the output plays silence until it returns"
        self.input_lost, self._reopened_at = True, now
        self._reopen()
        return said

    def _reopen(self) -> None:
        """The PortAudio stream anew (for a capture device that stopped delivering); None while it cannot open."""
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except Exception:  # a device that is gone may refuse even this
                pass
        try:
            self._stream = self._open_stream()
            self._stream.start()
        except Exception:  # not back yet: tried again later
            self._stream = None

    # ---- reporting ----------------------------------------------------------------------
    @property
    def error(self) -> BaseException | None:
        """What stopped the processing (the worker failed, or a sink's server went away), or None."""
        return self._error or getattr(self.sink, "error", None)

    @property
    def done(self) -> bool:
        """A source that ends has been processed to its end and the output queue has drained."""
        return self.finished and self._out_ring.readable == 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started if self._started else 0.0

    def latency_ms(self) -> dict:
        """Algorithmic (the chain's, and the resamplers' filters at a device rate other than the model's),
        buffering (PortAudio + prefill) and measured processing p99."""
        times = 1000 * self._hop_times[: min(self._hops, HOP_TIMES_KEPT)] if self._hops else np.zeros(1)
        algorithmic = self.chain.algorithmic_latency_ms + 1000 * (self._to_model.delay_s + self._to_device.delay_s)
        buffer = 1000 * self._device_latency + (1000 * self.prefill / self.rate if self.play else 0.0)
        return {
            "algorithmic": round(algorithmic, 3),
            "buffer": round(buffer, 3),
            "processing_p99": round(float(np.percentile(times, 99)), 3),
            "processing_median": round(float(np.median(times)), 3),
            # end-to-end delay of the sample stream: the frame's last hop overlaps the device block
            "expected_delay": round(algorithmic - self.chain.config.hop_ms + buffer, 3),
        }

    def stats(self) -> dict:
        """Counters since start. Overflows and underflows add the device's own flags (PortAudio) to
        the engine's ring events; ``xruns`` splits them, so losses streamdl caused stand apart."""
        latency = self.latency_ms()
        xruns = {"device_input": self.pa_input_overflows,  # PortAudio's flags, or for the output a virtual microphone graph's
                 "device_output": self.pa_output_underflows + getattr(self.sink, "xruns", 0),
                 "engine_input": self._in_ring.overflow_events, "engine_output": self._out_ring.underflow_events if self.play else 0}  # fmt: skip
        return {
            "seconds": round(self.elapsed, 3),
            "callbacks": self.callbacks,
            "input_overflows": xruns["device_input"] + xruns["engine_input"],
            "output_underflows": xruns["device_output"] + xruns["engine_output"],
            "dropped_samples": self._in_ring.overflow_frames + self.worker_skipped,
            "playout_skipped": self._playout.skipped,  # frames dropped to hold a virtual microphone's delay
            "latency_ms": latency,
            "xruns": xruns,
            "device_rate": self.rate,
            "model_rate": self.model_rate,
            "blocksize": self.blocksize,
            "realtime_worker": self.realtime,
            "rtf": round(latency["processing_median"] / self.chain.config.hop_ms, 4),
        }

    def status_line(self) -> str:
        s = self.stats()
        lat = s["latency_ms"]
        return (f"{s['seconds']:7.1f} s | RTF {s['rtf']:.3f} | latency {lat['algorithmic']:.0f} + {lat['buffer']:.0f} + "
                f"{lat['processing_p99']:.2f} ms | xruns in {s['input_overflows']} out {s['output_underflows']} | "
                f"dropped {s['dropped_samples']}")  # fmt: skip
