"""Desktop demo (``streamdl demo``): live input and output spectrograms, level meters, controls,
tag bars and an event log, status.

The audio runs in the :class:`~streamdl.engine.live.LiveEngine`; the window only reads snapshots
(spectrum monitors, the tagger's latest probabilities and its event queue, engine stats) on a
40 ms timer, so nothing the GUI does can stall the audio.
Needs the ``demo`` extra: PySide6-Essentials and pyqtgraph.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from streamdl.assets import sample_path
from streamdl.dsp.stft import STFTConfig
from streamdl.engine.devices import load_sounddevice
from streamdl.engine.endpoints import DeviceOutput
from streamdl.engine.live import LiveEngine
from streamdl.engine.monitor import FLOOR_DB, SpectrumMonitor
from streamdl.engine.options import ChainOptions, LiveOptions
from streamdl.engine.pipeline import build_chain, open_engine
from streamdl.engine.virtual_mic import DEFAULT_NAME
from streamdl.errors import StreamdlError
from streamdl.stages.events import describe

EVENT_LOG_LINES = 200
VIRTUAL_MIC = "virtual-mic"  # the output picker's entry for the virtual microphone


def _qt():
    try:
        import pyqtgraph as pg
        from PySide6 import QtCore, QtWidgets
    except ImportError:
        raise StreamdlError("the demo needs its extra: pip install 'streamdl[demo]'") from None
    return QtCore, QtWidgets, pg


class DemoSession:
    """What the window controls: the chain (denoiser and tagger, with spectrum monitors on its input and
    output), and the live engine that runs it between the endpoints ``live`` names."""

    def __init__(self, live: LiveOptions):
        self.file = live.input_file or str(sample_path())  # what plays when no microphone is picked
        live = live if live.input else dataclasses.replace(live, input_file=self.file, loop=True)
        self.input_monitor, self.output_monitor = SpectrumMonitor(STFTConfig().n_bins), SpectrumMonitor(STFTConfig().n_bins)
        self.chain = build_chain(ChainOptions(tag=True), taps=[self.input_monitor], output_taps=[self.output_monitor])
        self.denoiser, self.tagger = self.chain.named("denoiser"), self.chain.named("tagger")
        self.source_name = Path(self.file).name
        self.live = live
        self.engine: LiveEngine | None = None
        self.note = ""

    def start(self) -> None:
        """Open the devices; with a file as the source and no output device, run silently on the clock."""
        live, self.note = self.live, ""
        if live.input_file and live.play and not live.virtual_mic:
            try:
                DeviceOutput(live.output or None)
            except StreamdlError:
                live, self.note = dataclasses.replace(live, play=False), "no output device: playing silently"
        self.engine = open_engine(self.chain, live)
        self.engine.start()

    def restart(self, *, input_device, output_device) -> None:
        """Switch devices: a microphone (or None: back to the file) and an output (None: the default;
        ``VIRTUAL_MIC``: the virtual microphone other apps record)."""
        self.stop()
        virtual = output_device == VIRTUAL_MIC
        self.live = dataclasses.replace(self.live, input=str(input_device) if input_device is not None else "",
                                        input_file=self.file if input_device is None else "",
                                        output=str(output_device) if output_device is not None and not virtual else "",
                                        virtual_mic=DEFAULT_NAME if virtual else "")  # fmt: skip
        self.chain.reset()
        self.start()

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()
            self.engine = None


class DemoWindow:
    """The main window; built lazily so that importing this module needs no Qt."""

    def __init__(self, session: DemoSession):
        QtCore, QtWidgets, pg = _qt()
        self.session = session
        self.window = QtWidgets.QMainWindow()
        self.window.setWindowTitle("streamdl: live denoising")
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        self.images, self.meters = {}, {}
        for name in ("input", "output"):
            row = QtWidgets.QHBoxLayout()
            plot = pg.PlotWidget(title=f"{name} spectrogram")
            plot.setLabel("left", "kHz")
            plot.setLabel("bottom", "seconds ago")
            image = pg.ImageItem(axisOrder="row-major")
            image.setColorMap(pg.colormap.get("inferno"))
            plot.addItem(image)
            self.images[name] = image
            meter = QtWidgets.QProgressBar(orientation=QtCore.Qt.Orientation.Vertical, minimum=-60, maximum=0)
            meter.setFormat("%v dB")
            meter.setTextVisible(True)
            self.meters[name] = meter
            row.addWidget(plot, stretch=1)
            row.addWidget(meter)
            layout.addLayout(row, stretch=1)
        layout.addLayout(self._controls(QtWidgets, QtCore))
        layout.addLayout(self._tags(QtWidgets, pg), stretch=1)
        self.status = QtWidgets.QLabel("starting…")
        self.status.setStyleSheet("font-family: monospace")
        layout.addWidget(self.status)
        self.window.setCentralWidget(central)
        self.window.resize(1000, 860)
        self._cpu = (time.process_time(), time.monotonic())
        self.timer = QtCore.QTimer()
        self.timer.timeout.connect(self.refresh)
        self.timer.start(40)

    def _controls(self, QtWidgets, QtCore):
        row = QtWidgets.QHBoxLayout()
        self.denoise = QtWidgets.QCheckBox("denoise")
        self.denoise.setChecked(True)
        self.denoise.toggled.connect(self._apply)
        row.addWidget(self.denoise)
        self.limit = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=3, maximum=60, value=60)
        self.limit.valueChanged.connect(self._apply)
        self.limit_label = QtWidgets.QLabel()
        self.mix = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=0, maximum=100, value=100)
        self.mix.valueChanged.connect(self._apply)
        self.mix_label = QtWidgets.QLabel()
        for widget in (self.limit_label, self.limit, self.mix_label, self.mix):
            row.addWidget(widget)
        sd = load_sounddevice()
        devices = list(enumerate(sd.query_devices()))
        self.inputs = QtWidgets.QComboBox()
        self.inputs.addItem(f"{self.session.source_name} (loop)", None)
        self.outputs = QtWidgets.QComboBox()
        self.outputs.addItem("default output", None)
        self.outputs.addItem(f"virtual microphone ({DEFAULT_NAME})", VIRTUAL_MIC)
        for index, device in devices:
            if device["max_input_channels"] > 0:
                self.inputs.addItem(f"{index}: {device['name']}", index)
            if device["max_output_channels"] > 0:
                self.outputs.addItem(f"{index}: {device['name']}", index)
        self.inputs.currentIndexChanged.connect(self._switch_devices)
        self.outputs.currentIndexChanged.connect(self._switch_devices)
        row.addWidget(QtWidgets.QLabel("in"))
        row.addWidget(self.inputs)
        row.addWidget(QtWidgets.QLabel("out"))
        row.addWidget(self.outputs)
        self.tagger = QtWidgets.QCheckBox("tagger")
        self.tagger.setChecked(True)
        self.tagger.toggled.connect(self._apply)
        row.addWidget(self.tagger)
        self._apply()
        return row

    def _tags(self, QtWidgets, pg):
        """Per-label probability bars (latest 20 ms frame) beside a log of events with their times."""
        row = QtWidgets.QHBoxLayout()
        labels = self.session.tagger.labels
        plot = pg.PlotWidget(title="tags (probability now)")
        plot.setXRange(0, 1)
        plot.setYRange(-0.5, len(labels) - 0.5)
        rows = list(range(len(labels)))[::-1]  # first label on top
        plot.getAxis("left").setTicks([list(zip(rows, labels))])
        plot.setMouseEnabled(False, False)
        self.bars = pg.BarGraphItem(x0=0, y=rows, height=0.7, width=[0.0] * len(labels), brush="#3b8bd0")
        plot.addItem(self.bars)
        row.addWidget(plot, stretch=1)
        self.event_log = QtWidgets.QPlainTextEdit(readOnly=True)
        self.event_log.setMaximumBlockCount(EVENT_LOG_LINES)
        self.event_log.setStyleSheet("font-family: monospace")
        self.event_log.setPlaceholderText("events appear here as sounds start and end")
        row.addWidget(self.event_log, stretch=1)
        return row

    def _apply(self) -> None:
        """Controls -> chain: A/B switch, attenuation limit (60 dB = none), dry/wet. Takes effect next hop."""
        limit = self.limit.value()
        self.limit_label.setText(f"max suppression {limit} dB" if limit < 60 else "max suppression: none")
        self.mix_label.setText(f"wet {self.mix.value()}%")
        self.session.chain.enabled = self.denoise.isChecked()
        self.session.tagger.enabled = self.tagger.isChecked()
        self.session.denoiser.set_controls(attenuation_limit_db=limit if limit < 60 else None, mix=self.mix.value() / 100)

    def _switch_devices(self) -> None:
        try:
            self.session.restart(input_device=self.inputs.currentData(), output_device=self.outputs.currentData())
        except StreamdlError as e:
            self.status.setText(f"error: {e}")

    def refresh(self) -> None:
        """Timer slot: copy snapshots into the plots and the status line."""
        session, engine = self.session, self.session.engine
        rate, hop = session.chain.config.sample_rate, session.chain.config.hop
        for name, monitor in (("input", session.input_monitor), ("output", session.output_monitor)):
            frames = monitor.snapshot()
            self.images[name].setImage(frames.T, levels=(-90, -10), autoLevels=False)
            seconds = len(frames) * hop / rate
            self.images[name].setRect(-seconds, 0, seconds, rate / 2000)
            self.meters[name].setValue(int(max(-60, min(0, monitor.level_db))) if monitor.level_db > FLOOR_DB else -60)
        tagger = session.tagger
        self.bars.setOpts(width=tagger.probs if tagger.enabled else [0.0] * len(tagger.labels))
        while tagger.events:
            self.event_log.appendPlainText(describe(tagger.events.popleft()))
        if engine is None:
            return
        if engine.error is not None:
            self.status.setText(f"error: {type(engine.error).__name__}: {engine.error}")
            return
        stats = engine.stats()
        lat = stats["latency_ms"]
        cpu_now = (time.process_time(), time.monotonic())
        cpu = 100 * (cpu_now[0] - self._cpu[0]) / max(cpu_now[1] - self._cpu[1], 1e-6)
        self._cpu = cpu_now
        self.status.setText(
            f"RTF {stats['rtf']:.3f} | latency: algorithmic {lat['algorithmic']:.0f} ms, buffering {lat['buffer']:.0f} ms, "
            f"processing p99 {lat['processing_p99']:.2f} ms | xruns in {stats['input_overflows']} out {stats['output_underflows']} | "
            f"CPU {cpu:.0f}% {('| ' + session.note) if session.note else ''}"
        )


def run_demo(live: LiveOptions, *, seconds: float = 0.0, screenshot: Path | None = None) -> None:
    """Open the window (offscreen when a screenshot is asked for and there is no display) and run until
    closed; the audio flows between the endpoints ``live`` names (a microphone, or a file played in a
    loop: the bundled sample when neither is named)."""
    headless = not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    if headless and screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif headless and not os.environ.get("QT_QPA_PLATFORM"):  # Qt would abort the process with a page of text
        raise StreamdlError("the demo needs a desktop session and there is none (DISPLAY and WAYLAND_DISPLAY are unset); "
                            "run it on the desktop, or save a picture offscreen with --screenshot demo.png --seconds 5")
    QtCore, QtWidgets, _ = _qt()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    session = DemoSession(live)
    window = DemoWindow(session)
    failures = []

    def finish():
        try:
            if screenshot is not None:
                window.refresh()
                if not window.window.grab().save(str(screenshot)):
                    failures.append(f"{screenshot}: could not save the screenshot (use a .png name in an existing folder)")
        finally:
            app.quit()

    try:
        session.start()
        window.window.show()
        if seconds:
            QtCore.QTimer.singleShot(int(seconds * 1000), finish)
        app.exec()
    finally:
        window.timer.stop()
        session.stop()
    if failures:
        raise StreamdlError(failures[0])
