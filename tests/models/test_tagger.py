"""The tagger: one definition, chunked == whole for both architectures, causal, exports == eager."""

import pytest
import torch

from streamdl.errors import StreamdlError
from streamdl.models.configs import TaggerConfig
from streamdl.models.export import step_function
from streamdl.models.tagger import Tagger
from tests.models.parity import assert_export_equals_eager

ARCHS = ["crnn", "attention"]


def _model(arch, **kw):
    torch.manual_seed(0)
    model = Tagger(TaggerConfig(arch=arch, **kw)).eval()
    for p in model.parameters():  # beyond the initial biases, so outputs vary
        p.data += 0.05 * torch.randn_like(p)
    return model


def _spectrum(batch=2, frames=80, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 0.3 * torch.randn(batch, frames, 161, 2, generator=g)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 40])
@torch.no_grad()
def test_chunked_equals_whole(arch, chunk):
    model = _model(arch, window=8)  # a short attention window, so chunks cross it
    spec = _spectrum()
    whole = model(spec)
    state, outs = model.init_state(2), []
    for start in range(0, spec.shape[1] // 2, chunk):
        out, state = model.forward_chunk(spec[:, 2 * start : 2 * (start + chunk)], state)
        outs.append(out)
    assert torch.cat(outs, 1).shape == whole.shape == (2, 40, len(model.config.labels))
    torch.testing.assert_close(torch.cat(outs, 1), whole, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("arch", ARCHS)
@torch.no_grad()
def test_step_gives_probabilities_of_forward(arch):
    model = _model(arch)
    spec = _spectrum(frames=20)
    state = model.init_state(2)
    probs = []
    for t in range(0, 20, 2):
        p, state = model.step(spec[:, t : t + 2], state)
        probs.append(p)
    torch.testing.assert_close(torch.stack(probs, 1), torch.sigmoid(model(spec)), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("arch", ARCHS)
@torch.no_grad()
def test_causal(arch):
    model = _model(arch)
    spec = _spectrum(frames=40)
    changed = spec.clone()
    changed[:, 30:] = 5.0
    a, b = model(spec), model(changed)
    torch.testing.assert_close(a[:, :15], b[:, :15])
    assert not torch.allclose(a[:, 15:], b[:, 15:])


def test_attention_sees_a_bounded_window():
    model = _model("attention", window=4)
    spec = _spectrum(frames=60)
    changed = spec.clone()
    changed[:, :2] = 5.0  # only the first tagger frame differs
    with torch.no_grad():
        a, b = model(spec), model(changed)
    reach = 4 + 3 * model.context  # the window plus the three blocks' context
    assert not torch.allclose(a[:, :reach], b[:, :reach])
    torch.testing.assert_close(a[:, reach:], b[:, reach:])


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("backend", ["torchscript", "onnx"])
@torch.no_grad()
def test_exports_equal_eager(arch, backend):
    spec = _spectrum(batch=1, frames=24, seed=3)
    assert_export_equals_eager(_model(arch), [spec[:, t : t + 2] for t in range(0, 24, 2)], backend)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_torchscript_on_cuda_equals_cpu():
    model = _model("crnn")
    spec = _spectrum(batch=1, frames=2)
    gpu = _model("crnn").cuda()
    out, _ = step_function(gpu, "torchscript")(spec.cuda(), gpu.init_state(1))
    ref, _ = model.step(spec, model.init_state(1))
    torch.testing.assert_close(out.cpu(), ref, atol=1e-4, rtol=1e-3)


@torch.no_grad()
def test_new_labels_leave_the_old_outputs_alone():
    model = _model("crnn", labels=("speech", "music"), thresholds=(0.4, 0.6))
    grown = model.with_labels(("speech", "music", "machine")).eval()
    spec = _spectrum()
    logits = grown(spec)
    torch.testing.assert_close(logits[..., :2], model(spec))
    assert grown.config.thresholds == (0.4, 0.6, 0.5) and torch.all(logits[..., 2] == grown.head.bias[2])
    with pytest.raises(StreamdlError, match="must stay first"):
        model.with_labels(("music", "speech", "machine"))
