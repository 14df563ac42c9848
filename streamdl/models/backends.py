"""The names of the runtimes a model's step can run on and of the devices, importable without PyTorch
(:mod:`streamdl.models.export` implements them)."""

BACKENDS = ("eager", "torchscript", "onnx", "numba")
DEVICES = ("cpu", "cuda")
