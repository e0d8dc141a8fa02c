"""Shared fixtures: the package from the build tree (PYTHONPATH set by the
meson test 'python'), runs in a temporary directory, console capture and
the sampler off for in-process tests (pytest owns fds 1 and 2)."""
import os
import subprocess
import sys

import pytest


@pytest.fixture
def wandb(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNLOG_DIR", str(tmp_path))
    monkeypatch.setenv("RUNLOG_CONSOLE", "off")
    monkeypatch.setenv("RUNLOG_SYSTEM_METRICS", "off")
    import runlog.wandb as w
    yield w
    if w.run is not None:
        w.finish()


def run_script(code, tmp_path, env=None, check=True):
    """Runs code in a fresh /usr/bin/python3 with this test's PYTHONPATH."""
    e = dict(os.environ)
    e["RUNLOG_DIR"] = str(tmp_path)
    e.update(env or {})
    p = subprocess.run([sys.executable, "-c", code], env=e, cwd=str(tmp_path),
                       capture_output=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout: {p.stdout.decode()}\n"
                             f"stderr: {p.stderr.decode()}")
    return p
