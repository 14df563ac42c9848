"""streamdl: real-time audio processing with deep learning (denoising, tagging, files and live devices)."""

__version__ = "0.1.0"
