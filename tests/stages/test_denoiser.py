import numpy as np
import pytest

from streamdl.dsp.stft import stft
from streamdl.errors import StreamdlError
from streamdl.stages.denoiser import StreamingDenoiser


@pytest.fixture(scope="module")
def frames():
    x = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    return stft(x)


def _run(stage, frames):
    stage.reset()
    return np.array([stage(f).copy() for f in frames])


def test_mix_zero_is_the_input(frames):
    np.testing.assert_allclose(_run(StreamingDenoiser(mix=0.0), frames), frames, atol=1e-6)


def test_attenuation_limit_bounds_suppression(frames):
    """With a 6 dB limit, no bin of the output falls far below half the input's magnitude (plus what the
    model itself adds back); and the limit only ever brings more of the input back."""
    full = _run(StreamingDenoiser(), frames)
    limited = _run(StreamingDenoiser(attenuation_limit_db=6.0), frames)
    wet = 1 - 10 ** (-6 / 20)
    np.testing.assert_allclose(limited, wet * full + (1 - wet) * frames, atol=1e-5)


@pytest.mark.parametrize("backend", ["eager", "torchscript", "onnx", "numba"])
def test_backends_agree(frames, backend):
    if backend == "onnx":
        pytest.importorskip("onnxruntime")
    np.testing.assert_allclose(_run(StreamingDenoiser(backend=backend), frames[:50]), _run(StreamingDenoiser(backend="eager"), frames[:50]), atol=1e-4)


@pytest.mark.parametrize("kwargs, match", [({"mix": 1.5}, "mix must be"), ({"attenuation_limit_db": -3}, "positive"),
                                           ({"device": "tpu"}, "unknown device"), ({"backend": "tflite"}, "unknown backend")])  # fmt: skip
def test_bad_settings(kwargs, match):
    with pytest.raises(StreamdlError, match=match):
        StreamingDenoiser(**kwargs)


@pytest.mark.parametrize("backend", ["numba", "onnx"])
def test_cpu_runtimes_refuse_a_gpu(backend):
    from streamdl.assets import shipped_model_path
    from streamdl.models.checkpoint import load_model
    from streamdl.models.export import StreamStep

    with pytest.raises(StreamdlError, match="CPU only"):
        StreamStep(load_model(shipped_model_path("denoiser"), "denoiser"), backend, "cuda")
