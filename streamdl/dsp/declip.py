"""Declipping by constrained least-squares interpolation under an autoregressive model, compiled with Numba.

A run of clipped samples is unknown; the samples around it are known. The samples before it give an
all-pole (AR) model of the speech there; the run is filled with the values that make the model's
prediction error over a window around the run smallest, under the constraint a clipped sample
implies: it lay at or beyond the clip level, with the sign it was clipped at. The constraint is kept
by an active set: samples the unconstrained solution puts inside the level are pinned to it, and the
rest are solved again (at most ``ACTIVE_SET_ROUNDS`` times).

The kernel works in place on a float64 buffer; what it needs around a run is stated in
:func:`fill_clipped`. Cost grows with the unknowns in the window: the normal equations are banded
(unknowns more than ``ORDER`` samples apart do not meet), solved by a banded Cholesky.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ORDER = 32  # the AR model's order (16 kHz speech)
HISTORY = 320  # samples before a run the model is fitted to (20 ms)
AFTER = 32  # samples after a run that enter it, where ``x`` has them (2 ms)
ACTIVE_SET_ROUNDS = 4
CEILING = 4.0  # restored samples are held within this many times the clip level (a long run's solution can overshoot)


@njit(cache=True)
def _ar_model(history: np.ndarray, order: int) -> np.ndarray:
    """Prediction-error filter [1, -a1, ..., -ap] (order + 1,) of a Hann-windowed ``history``, by Levinson-Durbin."""
    n = len(history)
    w = history * (0.5 - 0.5 * np.cos(2.0 * np.pi * (np.arange(n) + 0.5) / n))
    r = np.empty(order + 1)
    for lag in range(order + 1):
        r[lag] = np.dot(w[lag:], w[: n - lag])
    r[0] = r[0] * 1.001 + 1e-12  # white-noise floor: a stable model on silence or a pure tone
    a = np.zeros(order + 1)
    a[0] = 1.0
    err = r[0]
    for i in range(1, order + 1):
        k = -np.dot(a[:i], r[i:0:-1]) / err
        a[1 : i + 1] = a[1 : i + 1] + k * a[i - 1 :: -1][:i]
        err *= 1.0 - k * k
    return a


@njit(cache=True)
def _solve(seg: np.ndarray, unknown: np.ndarray, a: np.ndarray) -> None:
    """Set ``seg[unknown]`` to the values that minimise the prediction error of ``a`` over ``seg`` (in place)."""
    p, n = len(a) - 1, len(seg)
    idx = np.flatnonzero(unknown)
    m = len(idx)
    if m == 0:
        return
    known = seg.copy()
    known[idx] = 0.0
    e = np.zeros(n)  # prediction error of the known samples, on the rows that see an unknown
    for t in range(max(idx[0], p), min(idx[-1] + p + 1, n)):
        acc = 0.0
        for k in range(p + 1):
            acc += a[k] * known[t - k]
        e[t] = acc
    gram, rhs = np.zeros((m, m)), np.zeros(m)
    for i in range(m):
        for t in range(max(idx[i], p), min(idx[i] + p + 1, n)):
            ai = a[t - idx[i]]
            rhs[i] -= ai * e[t]
            for j in range(i, m):
                if idx[j] > t:
                    break
                if t - idx[j] <= p:
                    gram[i, j] += ai * a[t - idx[j]]
    seg[idx] = _banded_solve(gram, rhs, idx, p)


@njit(cache=True)
def _banded_solve(gram: np.ndarray, rhs: np.ndarray, idx: np.ndarray, p: int) -> np.ndarray:
    """Solve ``gram @ v = rhs`` by Cholesky, for the upper triangle of a positive definite ``gram`` (m, m) whose
    entry (i, j) is zero where unknowns ``idx[i]`` and ``idx[j]`` lie more than ``p`` samples apart."""
    m = len(rhs)
    low = np.zeros((m, m))
    first = np.empty(m, np.int64)  # the first unknown within p samples before each
    k = 0
    for i in range(m):
        while idx[i] - idx[k] > p:
            k += 1
        first[i] = k
    for i in range(m):
        for j in range(first[i], i + 1):
            lo = max(first[i], first[j])
            acc = gram[j, i] - np.dot(low[i, lo:j], low[j, lo:j])
            if j == i:
                low[i, i] = np.sqrt(max(acc, 0.0) + 1e-12)
            else:
                low[i, j] = acc / low[j, j]
    v = np.empty(m)
    for i in range(m):
        v[i] = (rhs[i] - np.dot(low[i, first[i] : i], v[first[i] : i])) / low[i, i]
    for i in range(m - 1, -1, -1):
        acc = v[i]
        for r in range(i + 1, m):
            if first[r] > i:
                break
            acc -= low[r, i] * v[r]
        v[i] = acc / low[i, i]
    return v


@njit(cache=True)
def fill_clipped(x: np.ndarray, clipped: np.ndarray, start: int, stop: int, level_pos: float, level_neg: float) -> None:
    """Restore the clipped samples of ``x[start:stop]`` in place (float64 (n,), ``clipped`` bool (n,)).

    Each run of clipped samples that begins in ``[start, stop)`` is solved, under the AR model of the
    ``HISTORY`` samples before it (which must be known, restored), together with every clipped sample up
    to ``AFTER`` samples past its end (or the end of ``x``); the run itself is written, to its end.
    Clipped samples are positive at ``level_pos``, negative at ``level_neg`` (< 0); restored ones lie
    between the level and ``CEILING`` times it.
    """
    n = len(x)
    i = start
    while i < stop:
        if not clipped[i]:
            i += 1
            continue
        end = i
        while end < n and clipped[end]:
            end += 1
        lo, hi = i - ORDER, min(end + AFTER, n)
        seg = x[lo:hi].copy()
        unknown = clipped[lo:hi].copy()
        unknown[: i - lo] = False
        sign = np.where(seg > 0.0, 1.0, -1.0)
        level = np.where(sign > 0.0, level_pos, -level_neg)
        a = _ar_model(x[i - HISTORY : i].copy(), ORDER)
        free = unknown.copy()
        for _ in range(ACTIVE_SET_ROUNDS):
            _solve(seg, free, a)
            inside = free & (sign * seg < level)
            if not inside.any():
                break
            free &= ~inside
            seg[inside] = sign[inside] * level[inside]
        held = unknown & (sign * seg < level)  # what the last round left inside the level
        seg[held] = sign[held] * level[held]
        over = unknown & (sign * seg > CEILING * level)
        seg[over] = sign[over] * CEILING * level[over]
        x[i:end] = seg[i - lo : end - lo]
        i = end
