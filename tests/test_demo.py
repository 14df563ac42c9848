"""The desktop demo, offscreen: it starts, runs the chain, shows both spectrograms and the status, stops."""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")


def test_offscreen_screenshot_shows_spectrograms_tags_and_status(tmp_path):
    png = tmp_path / "demo.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    result = subprocess.run([sys.executable, "-m", "streamdl", "demo", "--seconds", "3", "--screenshot", str(png)],
                            capture_output=True, text=True, env=env, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB888)
    assert image.width() >= 800 and image.height() >= 500
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    pixels = pixels.reshape(image.height(), image.width(), 3)
    h = image.height()
    top, middle, bottom = pixels[: int(h * 0.3)], pixels[int(h * 0.33) : int(h * 0.6)], pixels[int(h * 0.66) :]
    for part in (top, middle):  # both spectrograms hold a picture, not a flat fill
        assert len(np.unique(part.reshape(-1, 3), axis=0)) > 200
        assert part.std() > 20
    bar_blue = np.abs(bottom.astype(int) - [0x3B, 0x8B, 0xD0]).sum(axis=2) < 30
    assert bar_blue.sum() > 300  # the tag bars are drawn


def test_a_bad_screenshot_path_is_a_one_line_error(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "streamdl", "demo", "--seconds", "1", "--screenshot", str(tmp_path / "no" / "x.png")],
                            capture_output=True, text=True, env=env, timeout=180)  # fmt: skip
    assert result.returncode == 2 and "could not save the screenshot" in result.stderr


def test_no_desktop_is_a_one_line_error_not_a_qt_abort():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "streamdl", "demo", "--seconds", "1"], capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 2 and "needs a desktop session" in result.stderr and len(result.stderr.strip().splitlines()) == 1
