"""A trainer's life: resume after SIGKILL with real DataLoader workers alive;
nothing left behind by finish (threads, descriptors); reader arrays that
outlive the run object."""
import gc
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import runlog
from conftest import run_script

TRAINER = textwrap.dedent("""
    import os, signal, sys, time
    import torch
    import runlog.wandb as wandb

    class Data(torch.utils.data.Dataset):
        def __len__(self):
            return 10 ** 6
        def __getitem__(self, i):
            if i >= 40:   # past what the trainer reads: a slow sample, the worker busy
                time.sleep(120)
            info = torch.utils.data.get_worker_info()
            if info is not None and not os.path.exists(f"worker{info.id}.pid"):
                with open(f"worker{info.id}.pid.tmp", "w") as f:
                    f.write(str(os.getpid()))
                os.replace(f"worker{info.id}.pid.tmp", f"worker{info.id}.pid")
                wandb.log({"from_worker": 1.0})   # the run is the trainer's: ignored
            return torch.tensor([float(i)])

    start = int(sys.argv[1])
    run = wandb.init(id="dl", resume="allow", config={"lr": 0.1})
    loader = torch.utils.data.DataLoader(Data(), batch_size=4, num_workers=2)
    batches = iter(loader)   # kept: dropping it would shut the workers down
    for step in range(start, start + 10):
        batch = next(batches)
        wandb.log({"loss": 1.0 / (step + 1), "x": batch.sum()}, step=step)
    wandb.log({}, commit=True)
    run._w.flush()
    while not all(os.path.exists(f"worker{i}.pid") for i in range(2)):
        pass
    os.kill(os.getpid(), signal.SIGKILL)   # the workers are alive, prefetching
""")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of nobody's is gone for our purpose
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_resume_after_sigkill_with_dataloader_workers_alive(wandb, tmp_path):
    pytest.importorskip("torch")
    env = dict(os.environ, RUNLOG_DIR=str(tmp_path), RUNLOG_SYSTEM_METRICS="off")
    with open(tmp_path / "trainer.log", "wb") as log:  # not a pipe: workers inherit it
        p = subprocess.run([sys.executable, "-c", TRAINER, "0"], env=env, cwd=tmp_path,
                           stdout=log, stderr=log, timeout=300)
    assert p.returncode == -signal.SIGKILL, (tmp_path / "trainer.log").read_text()
    workers = [int((tmp_path / f"worker{i}.pid").read_text()) for i in range(2)]
    path = tmp_path / "run-dl.runlog"
    try:
        # Right after the kill, with the forked workers still alive (they
        # notice their parent is gone only at their next poll), the run is
        # crashed, not running, and its lock is free: the resume opens it.
        assert all(alive(w) for w in workers), "workers exited before the check"
        assert runlog.open(path).state == "crashed"
        r = wandb.init(id="dl", resume="must")
        assert r.resumed and r.step == 10
        for step in range(10, 13):
            wandb.log({"loss": 1.0 / (step + 1)})
        wandb.finish()
    finally:
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass
    run = runlog.open(path)
    h = run.history("loss")
    assert h.steps.tolist() == list(range(13))
    assert h.values.tolist() == [1.0 / (s + 1) for s in range(13)]
    assert run.state == "finished" and run.resumes == 1
    assert "from_worker" not in run.keys()
    assert run.history("x").values.tolist()[:2] == [0 + 1 + 2 + 3, 4 + 5 + 6 + 7]


LEAKS = textwrap.dedent("""
    import gc, os, sys, threading
    import numpy as np
    import runlog, runlog.wandb as wandb

    def fds():
        return sorted(os.listdir("/proc/self/fd"))
    def threads():
        return sorted(t.name for t in threading.enumerate())
    def tasks():  # every thread, the library's own (C) threads included
        return len(os.listdir("/proc/self/task"))

    before_fd, before_th, before_tasks = fds(), threads(), tasks()
    for i in range(3):                              # init/finish again: nothing grows
        run = wandb.init(project="leaks", name=f"r{i}", config={"i": i})
        print("hello from run", i)
        for s in range(50):
            wandb.log({"loss": 1.0 / (s + 1), "img": wandb.Image(np.zeros((4, 4, 3), np.uint8))}
                      if s == 0 else {"loss": 1.0 / (s + 1)})
        t = wandb.Table(columns=["a"], data=[[1], [2]])
        wandb.log({"t": t})
        with open("model.bin", "wb") as f:
            f.write(b"weights")
        wandb.log_model("model.bin", name="m", aliases=["best"])
        wandb.alert(title="a", text="b")
        during = tasks(), len(fds())
        wandb.finish()
        r = runlog.open(run.path)                   # the reader too
        r.history("loss").values
        list(r.records())
        r.table("t")
        r.artifacts()[0].download("dl")
        r.close()
        del r, run
        gc.collect()
    after_fd, after_th, after_tasks = fds(), threads(), tasks()
    print("DURING", during, before_tasks)
    print("FD", before_fd, after_fd)
    print("TH", before_th, after_th)
    assert after_th == before_th, (before_th, after_th)
    assert after_tasks == before_tasks, (before_tasks, after_tasks)
    assert after_fd == before_fd, (before_fd, after_fd)
    print("OK")
""")


def test_no_threads_or_descriptors_left_after_finish(tmp_path):
    # Console capture and the system sampler on (their defaults): the pipes,
    # the capture's threads and the writer's thread must all be gone.
    p = run_script(LEAKS, tmp_path, env={"RUNLOG_CONSOLE": "", "RUNLOG_SYSTEM_METRICS": ""})
    out = p.stdout.decode()
    assert out.rstrip().endswith("OK"), out + p.stderr.decode()
    during = out.split("DURING ")[1].splitlines()[0]
    (tasks, fds), before = eval(during.rsplit(" ", 1)[0]), int(during.rsplit(" ", 1)[1])
    # the writer's, the capture's and the sampler's threads really ran
    assert tasks >= before + 2, during


def test_arrays_stay_valid_after_the_run_is_closed_and_dropped(wandb):
    r = wandb.init()
    vals = np.random.default_rng(5).random(3000)
    for i, v in enumerate(vals):
        wandb.log({"v": float(v), "i": i, "s": f"s{i}"})
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    hv, hi, hs = run.history("v"), run.history("i"), run.history("s")
    arrays = (hv.values, hv.steps, hv.times, hv.floats, hi.values, hs.values)
    run.close()                      # closed, then dropped with its histories
    del run, hv, hi, hs
    gc.collect()
    junk = [np.full(50000, 7.0) for _ in range(40)]  # reuse freed memory, if any was
    v, steps, times, floats, ints, strs = arrays
    assert np.array_equal(v, vals) and np.array_equal(floats, vals)
    assert steps.tolist() == list(range(3000)) and (np.diff(times) >= 0).all()
    assert ints.tolist() == list(range(3000)) and strs[2999] == "s2999"
    del junk
