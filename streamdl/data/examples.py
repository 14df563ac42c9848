"""Random training examples as torch data: an endless stream for training, a fixed set for validation.

Example makers (:class:`~streamdl.data.mixing.Mixer`, :class:`~streamdl.data.scenes.SceneMaker`)
have a method ``rng -> tuple of float32 arrays``; these two helpers turn it into batches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


class RandomExamples(torch.utils.data.IterableDataset):
    """Endless tuples of tensors from ``maker_cls(*args, **kwargs).<method>(rng)``.

    The maker is built inside each data-loader worker (so big corpora are not pickled), and each
    worker draws from its own seed ``[seed, worker id]``.
    """

    def __init__(self, maker_cls: type, args: tuple, kwargs: dict, method: str, seed: int):
        self.maker_cls, self.args, self.kwargs, self.method, self.seed = maker_cls, args, kwargs, method, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, info.id if info else 0])
        make = getattr(self.maker_cls(*self.args, **self.kwargs), self.method)
        while True:
            yield tuple(torch.from_numpy(a) for a in make(rng))


VALIDATION_SEED = 1234  # every run validates on the same examples, whatever its own --seed


def validation_rooms(training_rooms: int, sample_rate: int) -> list[np.ndarray]:
    """The simulated rooms of the validation examples: a quarter as many as training draws, the same
    for every run (from VALIDATION_SEED)."""
    from streamdl.data.mixing import room_impulse_responses

    return room_impulse_responses(training_rooms // 4, sample_rate, seed=VALIDATION_SEED)


def fixed_examples(make: Callable[[np.random.Generator], tuple], count: int,
                   seed: int = VALIDATION_SEED) -> tuple[torch.Tensor, ...]:  # fmt: skip
    """``count`` examples from ``make(rng)`` with a fixed seed, each part stacked: (count, ...) tensors."""
    rng = np.random.default_rng(seed)
    examples = [make(rng) for _ in range(count)]
    return tuple(torch.from_numpy(np.stack(parts)) for parts in zip(*examples))
