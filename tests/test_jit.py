"""A compile that takes long says so once on stderr; a fast load says nothing."""

import time

from streamdl import jit


def test_long_work_is_announced_once(capsys, monkeypatch):
    monkeypatch.setattr(jit, "COLD_AFTER_S", 0.05)
    monkeypatch.setattr(jit, "_told", type(jit._told)())
    with jit.compile_notice():
        pass
    time.sleep(0.1)
    assert capsys.readouterr().err == ""
    for _ in range(2):
        with jit.compile_notice():
            time.sleep(0.15)
    assert capsys.readouterr().err.count("compiling the Numba kernels") == 1
