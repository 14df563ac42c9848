import numpy as np
import pytest
import torch

from streamdl.dsp.stft import stft
from streamdl.engine.chain import Chain
from streamdl.engine.files import process_array
from streamdl.models.restorer import Restorer
from streamdl.stages.restorer import StreamingRestorer
from tests.models.test_restorer import SMALL, lively, speech_like


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return lively(Restorer(SMALL)).eval()


@pytest.fixture(scope="module")
def frames():
    return stft(speech_like(0.6, 4000)[0].numpy())


def _run(stage, frames):
    stage.reset()
    return np.array([stage(f).copy() for f in frames])


@pytest.mark.parametrize("backend", ["torchscript", "onnx", "numba"])
def test_backends_agree(model, frames, backend):
    if backend == "onnx":
        pytest.importorskip("onnxruntime")
    np.testing.assert_allclose(_run(StreamingRestorer(model, backend=backend), frames), _run(StreamingRestorer(model, backend="eager"), frames),
                               atol=1e-4)  # fmt: skip


def test_the_stage_equals_the_whole_model(model, frames):
    spec = torch.from_numpy(np.stack([frames.real, frames.imag], -1))[None]
    with torch.no_grad():
        whole = torch.view_as_complex(model(spec.contiguous())[0].contiguous()).numpy()
    np.testing.assert_allclose(_run(StreamingRestorer(model), frames), whole, atol=1e-4)


def test_a_chain_with_the_restorer_keeps_length_and_alignment(model):
    x = speech_like(1.0, None)[0].numpy()
    y = process_array(Chain(stages=[StreamingRestorer(model)]), x[:, None], 16000)[:, 0]
    assert y.shape == x.shape
    lag = np.argmax(np.correlate(y[2000:14000], x[2000 - 50 : 14000 + 50], mode="valid")) - 50
    assert lag == 0
