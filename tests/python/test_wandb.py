"""runlog.wandb: what a W&B script logs reads back through runlog.open()."""
import gc
import os
import shutil
import signal
import struct
import tempfile
import textwrap
import time

import numpy as np
import pytest

import runlog
from conftest import run_script


def bits(x):
    return struct.pack("<d", x)


def from_bits(u):
    return struct.unpack("<d", struct.pack("<Q", u))[0]


SPECIAL = [0.0, -0.0, 1.5, float("inf"), float("-inf"), from_bits(0x7FF8DEAD0000BEEF),
           from_bits(0xFFF0000000000001), 5e-324, 1.7976931348623157e308]


def test_floats_round_trip_bit_for_bit(wandb):
    r = wandb.init(project="p", name="floats")
    for x in SPECIAL:
        wandb.log({"x": x, "x32": np.float32(1.5)})
    path = r.path
    wandb.finish()
    h = runlog.open(path).history("x")
    assert h.values.dtype == np.float64
    assert [bits(v) for v in h.values.tolist()] == [bits(x) for x in SPECIAL]
    assert h.steps.tolist() == list(range(len(SPECIAL)))


def test_other_types_round_trip(wandb):
    r = wandb.init(project="p")
    ints = [0, -1, 2**63 - 1, -2**63, 42]
    strs = ["", "héllo", "日本語", "a\nb", "x" * 1000]
    for i, s in zip(ints, strs):
        wandb.log({"i": i, "s": s, "b": i % 2 == 0, "n": None, "ni": np.int16(-3),
                   "nb": np.bool_(True), "d0": np.array(2.5), "list": [1, 2.5, "x"],
                   "nested": {"a": {"b": [1, None]}}})
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    assert run.history("i").values.tolist() == ints
    assert run.history("i").values.dtype == np.int64
    assert run.history("s").values.tolist() == strs
    assert run.history("b").values.tolist() == [i % 2 == 0 for i in ints]
    assert run.history("n").values.tolist() == [None] * 5
    assert run.history("ni").values.tolist() == [-3] * 5
    assert run.history("nb").values.tolist() == [True] * 5
    assert run.history("d0").values.tolist() == [2.5] * 5
    assert run.history("list").values.tolist() == [[1, 2.5, "x"]] * 5
    assert run.history("nested").values.tolist() == [{"a": {"b": [1, None]}}] * 5


class FakeTensor:
    """What runlog.wandb duck-types: torch.Tensor's detach/cpu/numpy/numel."""

    def __init__(self, a, requires_grad=False):
        self.a = np.asarray(a)
        self.requires_grad = requires_grad

    def detach(self):
        return FakeTensor(self.a)

    def cpu(self):
        return self

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad")
        return self.a

    def numel(self):
        return self.a.size

    def item(self):
        return self.a.item()


def test_tensors_and_arrays(wandb):
    r = wandb.init()
    wandb.log({"t": FakeTensor(np.float32(0.25), requires_grad=True),
               "t1": FakeTensor([[3]]), "big": np.arange(1000.0), "small": np.arange(4),
               "bt": FakeTensor(np.ones(100))})
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    assert run.history("t").values.tolist() == [0.25]
    assert run.history("t1").values.tolist() == [3]
    assert run.history("small").values.tolist() == [[0, 1, 2, 3]]
    big = run.history("big").values[0]
    assert big["_type"] == "histogram" and len(big["values"]) == 64 and sum(big["values"]) == 1000
    assert run.history("bt").values[0]["_type"] == "histogram"


def test_bad_value_is_a_type_error_naming_the_key_and_adds_nothing(wandb):
    r = wandb.init()
    with pytest.raises(TypeError, match="'weird'"):
        wandb.log({"ok": 1.0, "weird": object()})
    with pytest.raises(TypeError, match="'deep'"):
        wandb.log({"deep": {"x": object()}})
    with pytest.raises(TypeError, match="'huge'"):
        wandb.log({"huge": 2**70})
    wandb.log({"ok": 2.0})
    path = r.path
    wandb.finish()
    h = runlog.open(path).history("ok")
    assert h.values.tolist() == [2.0] and h.steps.tolist() == [0]


def test_commit_semantics_as_wandb(wandb):
    r = wandb.init()
    wandb.log({"a": 1}, commit=False)
    wandb.log({"b": 2})                 # row 0: a, b
    wandb.log({"a": 3})                 # row 1
    wandb.log({"a": 4}, step=5)         # pending at 5 (step without commit)
    wandb.log({"b": 5}, step=5)         # same row
    wandb.log({"a": 6}, step=7)         # commits 5, pending at 7
    wandb.log({"b": 7}, commit=True)    # commits 7
    wandb.log({"a": 8})                 # row 8
    assert r.step == 9
    with pytest.warns(RuntimeWarning, match="step 2"):
        wandb.log({"a": 99}, step=2)    # below: dropped, one warning
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wandb.log({"a": 98}, step=3)    # dropped again, silently
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    a, b = run.history("a"), run.history("b")
    assert list(zip(a.steps.tolist(), a.values.tolist())) == [(0, 1), (1, 3), (5, 4), (7, 6), (8, 8)]
    assert list(zip(b.steps.tolist(), b.values.tolist())) == [(0, 2), (5, 5), (7, 7)]
    assert run.summary["a"] == 8


def test_config_and_summary(wandb):
    r = wandb.init(project="proj", name="nm", group="g", job_type="train", tags=["x", "y"],
                   notes="n", config={"lr": 0.01, "opt": {"name": "adam", "betas": [0.9, 0.99]}})
    assert wandb.run is r and wandb.config is r.config
    assert wandb.config.lr == 0.01 and wandb.config["opt"]["name"] == "adam"
    wandb.config.batch_size = 64
    wandb.config.update({"epochs": 3})
    wandb.config["nan"] = float("nan")
    wandb.log({"loss": 0.5})
    wandb.summary["best"] = 0.75
    wandb.summary.update({"final": "done", "flag": True, "arr": [1, 2]})
    assert wandb.summary["loss"] == 0.5 and wandb.summary["best"] == 0.75
    path = r.path
    wandb.finish()
    assert wandb.run is None
    run = runlog.open(path)
    assert (run.project, run.name, run.group, run.job_type, run.tags, run.notes) == \
        ("proj", "nm", "g", "train", ["x", "y"], "n")
    assert run.config == {"lr": 0.01, "opt": {"name": "adam", "betas": [0.9, 0.99]},
                          "batch_size": 64, "epochs": 3, "nan": "NaN"}
    assert run.summary["best"] == 0.75 and run.summary["final"] == "done"
    assert run.summary["flag"] is True and run.summary["arr"] == [1, 2]
    assert run.summary["loss"] == 0.5
    assert run.state == "finished" and run.exit_code == 0


def test_random_name_and_dir(wandb, tmp_path):
    r = wandb.init()
    assert r.name and r.name.count("-") == 2
    assert os.path.dirname(r.path) == str(tmp_path)
    assert os.path.basename(r.path) == f"run-{r.id}.runlog"
    wandb.finish()
    other = tmp_path / "elsewhere"
    r = wandb.init(dir=other)
    assert os.path.dirname(r.path) == str(other)
    wandb.finish(exit_code=3)
    assert runlog.open(r.path).state == "failed"


def test_context_manager_marks_failed(wandb):
    with pytest.raises(ZeroDivisionError):
        with wandb.init() as r:
            wandb.log({"a": 1})
            1 / 0
    run = runlog.open(r.path)
    assert run.state == "failed" and run.history("a").values.tolist() == [1]


def test_table_with_images_pixel_exact(wandb):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (6, 4), dtype=np.uint8)
    rgba = rng.integers(0, 256, (3, 2, 4), dtype=np.uint8)
    chw = rng.random((3, 4, 6)).astype(np.float32)  # a torch image: CHW, 0..1
    r = wandb.init()
    t = wandb.Table(columns=["img", "pred", "target", "score", "name"])
    t.add_data(wandb.Image(rgb, caption="c0"), np.int64(1), FakeTensor(2), np.float32(0.5), "a")
    t.add_data(wandb.Image(grey), 3, 4, 0.25, "b")
    t.add_data(wandb.Image(rgba), 5, 6, None, "c")
    t.add_data(wandb.Image(FakeTensor(chw)), 7, 8, 1.0, "d")
    t.add_column("extra", [1.5, 2.5, 3.5, 4.5])
    wandb.log({"preds": t, "single": wandb.Image(rgb)}, commit=False)
    wandb.log({"epoch": 1})
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    tab = run.table("preds")
    assert tab.columns == ["img", "pred", "target", "score", "name", "extra"]
    assert tab.types == ["image", "int", "int", "float", "string", "float"]
    imgs = [row[0] for row in tab.data]
    assert np.array_equal(imgs[0], rgb)
    assert np.array_equal(imgs[1][:, :, 0], grey)
    assert np.array_equal(imgs[2], rgba)
    want = np.clip(np.rint(np.transpose(chw, (1, 2, 0)).astype(np.float64) * 255), 0, 255)
    assert np.array_equal(imgs[3], want.astype(np.uint8))
    assert [row[1:] for row in tab.data] == [[1, 2, 0.5, "a", 1.5], [3, 4, 0.25, "b", 2.5],
                                             [5, 6, None, "c", 3.5], [7, 8, 1.0, "d", 4.5]]
    (step, px, cap), = run.images("single")
    assert step == 0 and np.array_equal(px, rgb) and cap is None
    assert run.tables() == [("preds", 0)]
    assert run.history("epoch").steps.tolist() == [0]


def test_image_from_pil_and_png_path(wandb, tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    px = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    png = tmp_path / "x.png"
    PIL.fromarray(px).save(png)
    r = wandb.init()
    wandb.log({"pil": wandb.Image(PIL.fromarray(px)), "png": wandb.Image(str(png))})
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    assert np.array_equal(run.images("pil")[0][1], px)
    cell = run.history("png").values[0]
    assert cell["format"] == "png"
    assert np.array_equal(run.images("png")[0][1], px)


def test_artifacts_and_models_extract_byte_exact(wandb, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.bin").write_bytes(os.urandom(3000))
    (src / "sub" / "b.txt").write_bytes(b"hello\n")
    ckpt = tmp_path / "model.pt"
    ckpt.write_bytes(os.urandom(10000))
    r = wandb.init()
    art = wandb.Artifact("data", type="dataset", description="d", metadata={"n": 2})
    art.add_dir(str(src))
    art.add_file(str(ckpt), name="extra/model.pt")
    art.add_reference(f"file://{ckpt}", name="ref.pt")
    wandb.log_artifact(art, aliases=["best"])
    assert art.version == 0
    assert wandb.log_model(str(ckpt), aliases=["epoch-1"]) == 0
    ckpt.write_bytes(os.urandom(10000))
    assert wandb.log_model(str(ckpt), aliases=["epoch-2"]) == 1
    path, rid = r.path, r.id
    wandb.finish()
    run = runlog.open(path)
    arts = {(a.name, a.version): a for a in run.artifacts()}
    data = arts[("data", 0)]
    assert data.type == "dataset" and data.description == "d" and data.metadata == {"n": 2}
    assert set(data.aliases) == {"latest", "best"}
    out = tmp_path / "out"
    data.download(str(out))
    assert (out / "a.bin").read_bytes() == (src / "a.bin").read_bytes()
    assert (out / "sub" / "b.txt").read_bytes() == b"hello\n"
    assert not (out / "ref.pt").exists()
    model = run.artifact(f"run-{rid}-model.pt", "latest")
    assert model.version == 1 and "epoch-2" in model.aliases
    model.download(str(tmp_path / "m"))
    assert (tmp_path / "m" / "model.pt").read_bytes() == ckpt.read_bytes()


def test_alert(wandb, tmp_path):
    r = wandb.init()
    wandb.alert(title="low acc", text="acc 0.1", level=wandb.AlertLevel.ERROR)
    wandb.alert(title="t2", text="x", wait_duration=300)
    wandb.alert(title="t2", text="suppressed", wait_duration=300)
    path = r.path
    wandb.finish()
    alerts = [rec["body"] for rec in runlog.open(path).records() if rec["type"] == "alert"]
    assert [(a["title"], a["text"], a["level"]) for a in alerts] == \
        [("low acc", "acc 0.1", "ERROR"), ("t2", "x", "WARN")]


def test_history_arrays_survive_the_run_object(wandb):
    r = wandb.init()
    vals = np.random.default_rng(2).random(5000)
    for v in vals:
        wandb.log({"v": float(v)})
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    h = run.history("v")
    steps, values, times = h.steps, h.values, h.times
    assert not values.flags.writeable and not values.flags.owndata
    del run, h
    gc.collect()
    junk = [np.ones(10000) for _ in range(50)]  # reuse freed memory, if any was freed
    assert np.array_equal(values, vals) and steps.tolist() == list(range(5000))
    assert (np.diff(times) >= 0).all()
    del junk


def test_disabled_mode(wandb, tmp_path):
    r = wandb.init(mode="disabled", config={"a": 1})
    wandb.log({"x": object()})
    wandb.finish()
    assert r.path is None and not list(tmp_path.glob("*.runlog"))


def test_exception_in_script_marks_the_run_failed(tmp_path):
    p = run_script(textwrap.dedent("""
        import runlog.wandb as wandb
        run = wandb.init(id="boom")
        print("before", flush=False)
        wandb.log({"a": 1.0})
        raise RuntimeError("training diverged")
    """), tmp_path, check=False)
    assert p.returncode == 1 and b"training diverged" in p.stderr
    run = runlog.open(tmp_path / "run-boom.runlog")
    assert run.state == "failed" and run.exit_code == 1
    assert run.history("a").values.tolist() == [1.0]
    console = b"".join(r["body"]["data"] for r in run.records() if r["type"] == "console")
    assert b"before" in console and b"training diverged" in console


def test_console_captured_with_python_buffers_flushed(tmp_path):
    run_script(textwrap.dedent("""
        import sys
        import runlog.wandb as wandb
        wandb.init(id="cons")
        sys.stdout.write("partial line, never flushed")
        sys.stderr.write("to stderr\\n")
        wandb.finish()
        print("after finish")
    """), tmp_path, env={"PYTHONUNBUFFERED": ""})
    run = runlog.open(tmp_path / "run-cons.runlog")
    by = {}
    for r in run.records():
        if r["type"] == "console":
            by.setdefault(r["body"]["stream"], b"")
            by[r["body"]["stream"]] += r["body"]["data"]
    assert by["stdout"] == b"partial line, never flushed"
    assert b"to stderr\n" in by["stderr"]
    assert run.record_counts["metadata"] >= 1


def mount_point(path):
    """The folder above path where the device changes (os.path.ismount), a
    check apart from /proc/self/mountinfo."""
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def holds(mount, folder):
    """mount lies between folder's mount_point() and folder itself (a bind
    mount of a folder of the same device is a mount point ismount misses)."""
    def under(top, p):
        return top == "/" or p == top or p.startswith(top + "/")
    return under(mount, os.path.realpath(folder)) and under(mount_point(folder), mount)


def test_disk_mount_is_the_run_logs_filesystem(tmp_path):
    # The run-log in dir= on another filesystem than the working directory:
    # the metadata's disk_mount (spec/EXPORTS.md §8.1) is the run-log's.
    shm = "/dev/shm"
    if not os.path.isdir(shm) or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no /dev/shm on a filesystem of its own")
    d = tempfile.mkdtemp(dir=shm, prefix="runlog-test-")
    try:
        run_script(textwrap.dedent("""
            import runlog.wandb as wandb
            wandb.init(id="disk", dir=%r)
            wandb.finish()
        """ % d), tmp_path)
        meta = runlog.open(os.path.join(d, "run-disk.runlog")).metadata
        assert holds(meta["disk_mount"], d) and not holds(meta["disk_mount"], tmp_path), meta
    finally:
        shutil.rmtree(d)


def test_console_off_by_env(tmp_path):
    p = run_script(textwrap.dedent("""
        import runlog.wandb as wandb
        wandb.init(id="quiet")
        print("not recorded")
    """), tmp_path, env={"RUNLOG_CONSOLE": "off"})
    assert b"not recorded" in p.stdout
    run = runlog.open(tmp_path / "run-quiet.runlog")
    assert run.state == "finished"  # interpreter exit finished it
    assert run.record_counts["console"] == 0


def test_sigterm_finishes_as_failed(tmp_path):
    p = run_script(textwrap.dedent("""
        import os, signal
        import runlog.wandb as wandb
        wandb.init(id="term")
        wandb.log({"a": 1})
        os.kill(os.getpid(), signal.SIGTERM)
    """), tmp_path, check=False)
    assert p.returncode == -signal.SIGTERM
    run = runlog.open(tmp_path / "run-term.runlog")
    assert run.state == "failed" and run.exit_code == 128 + signal.SIGTERM


TRAINER = textwrap.dedent("""
    import os, signal, sys, time
    import runlog.wandb as wandb
    run = wandb.init(id="slurm", resume="allow", config={"lr": 0.1})
    # a DataLoader-like worker, forked after init, that outlives the trainer
    pid = os.fork() if os.environ.get("FORK_WORKER") else -1
    if pid == 0:
        wandb.log({"from_worker": 1.0})   # ignored: the run is the parent's
        time.sleep(300)
        os._exit(0)
    if pid > 0:
        with open("worker.pid", "w") as f:
            f.write(str(pid))
    start = int(sys.argv[1])
    for step in range(start, start + 10):
        wandb.log({"loss": 1.0 / (step + 1)}, step=step)
    wandb.log({}, commit=True)
    run._w.flush()
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_resume_after_sigkill_with_a_forked_worker_alive(tmp_path):
    import subprocess
    import sys
    env = dict(os.environ, RUNLOG_DIR=str(tmp_path))
    env_fork = dict(env, FORK_WORKER="1")
    # Output to a file: the worker inherits it and would keep a pipe open.
    with open(tmp_path / "trainer.log", "wb") as log:
        p = subprocess.run([sys.executable, "-c", TRAINER, "0"], env=env_fork, cwd=tmp_path,
                           stdout=log, stderr=log, timeout=120)
    assert p.returncode == -signal.SIGKILL, (tmp_path / "trainer.log").read_text()
    worker = int((tmp_path / "worker.pid").read_text())
    path = tmp_path / "run-slurm.runlog"
    try:
        os.kill(worker, 0)  # still alive
        run = runlog.open(path)
        assert run.state == "crashed"  # the worker does not hold the lock
        # The requeued job restarts from a checkpoint at step 5: steps 5..9
        # were logged already and are dropped with one warning.
        p = subprocess.run([sys.executable, "-W", "always", "-c", TRAINER.replace(
            "os.kill(os.getpid(), signal.SIGKILL)", "wandb.finish()"), "5"],
            env=env, cwd=tmp_path, capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert p.stderr.count(b"RuntimeWarning") == 1
    finally:
        os.kill(worker, signal.SIGKILL)
    run = runlog.open(path)
    h = run.history("loss")
    assert h.steps.tolist() == list(range(15))
    assert h.values.tolist() == [1.0 / (s + 1) for s in range(15)]
    assert run.state == "finished" and run.resumes == 1
    assert "from_worker" not in run.keys()


def test_hostile_files_raise_errors_never_crash(tmp_path):
    data = os.environ.get("RUNLOG_TEST_DATA") or os.path.join(
        os.path.dirname(__file__), "..", "data")
    hostile = sorted(os.path.join(data, "hostile", f)
                     for f in os.listdir(os.path.join(data, "hostile")) if f.endswith(".runlog"))
    assert len(hostile) > 10
    code = textwrap.dedent("""
        import sys, runlog
        errors = ok = 0
        for path in sys.argv[1:]:
            for tolerant in (False, True):
                try:
                    run = runlog.open(path, tolerant=tolerant)
                    for k in run.keys():
                        h = run.history(k)
                        h.values, h.steps, h.times
                    for rec in run.records():
                        pass
                    for k, step in run.tables():
                        run.table(k, step)
                    for k in run.keys():
                        run.images(k)
                    for a in run.artifacts():
                        a.download(sys.argv[0] + "-out")
                    runlog.verify(path)
                    runlog.runs([path], strict=not tolerant)
                    ok += 1
                except runlog.Error as e:
                    assert str(e), path
                    errors += 1
        print(ok, errors)
    """)
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-c", code, *hostile], cwd=tmp_path, capture_output=True,
                       timeout=300)
    assert p.returncode == 0, (p.returncode, p.stderr.decode()[-3000:])
    ok, errors = map(int, p.stdout.split())
    assert errors > 0 and ok + errors == 2 * len(hostile)


def test_runs_dataframe(wandb, tmp_path):
    for i, lr in enumerate([0.1, 0.01, 0.001]):
        wandb.init(project="sweep", name=f"r{i}", config={"lr": lr, "opt": {"name": "sgd"}})
        for s in range(5):
            wandb.log({"loss": lr * (5 - s)})
        wandb.summary["best"] = lr
        wandb.finish(exit_code=0 if i < 2 else 1)
    df = runlog.runs(str(tmp_path / "*.runlog"))
    assert len(df) == 3
    df = df.sort_values("name").reset_index(drop=True)
    assert df["name"].tolist() == ["r0", "r1", "r2"]
    assert df["config.lr"].tolist() == [0.1, 0.01, 0.001]
    assert df["config.opt.name"].tolist() == ["sgd"] * 3
    assert df["summary.best"].tolist() == [0.1, 0.01, 0.001]
    assert df["summary.loss"].tolist() == pytest.approx([0.1, 0.01, 0.001])
    assert df["state"].tolist() == ["finished", "finished", "failed"]
    assert df["rows"].tolist() == [5, 5, 5]
    assert len(runlog.runs(str(tmp_path))) == 3  # a directory: its *.runlog


def test_history_frame_and_records(wandb):
    pd = pytest.importorskip("pandas")
    r = wandb.init()
    for s in range(4):
        wandb.log({"a": float(s)} if s % 2 else {"a": float(s), "b": s})
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    df = run.history_frame()
    assert isinstance(df, pd.DataFrame) and df.index.name == "_step"
    assert df["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert df["b"].dropna().tolist() == [0, 2]
    assert df["_timestamp"].notna().all()
    rows = [rec for rec in run.records() if rec["type"] == "history"]
    assert [rec["step"] for rec in rows] == [0, 1, 2, 3]
    assert rows[0]["fields"] == {"a": 0.0, "b": 0}
    assert run.verify()["intact"]


def test_errors_carry_the_library_detail(tmp_path):
    bad = tmp_path / "bad.runlog"
    bad.write_bytes(b"not a runlog file at all, but long enough for a header" * 4)
    with pytest.raises(runlog.NotRunlog) as e:
        runlog.open(bad)
    assert str(bad) in str(e.value) and e.value.code == -4
    assert isinstance(e.value, runlog.Error)
    with pytest.raises(runlog.IOFailure):
        runlog.open(tmp_path / "missing.runlog")
    w = runlog.Writer(str(tmp_path / "l.runlog"))
    with pytest.raises(runlog.Locked, match="l.runlog"):
        runlog.Writer(str(tmp_path / "l.runlog"))
    w.add("k", 1.0)
    w.commit(3)
    with pytest.raises(runlog.StateError):
        w.commit(2)
    w.close()
    with pytest.raises(runlog.StateError):
        w.commit()
    with pytest.raises(runlog.NotFound):
        runlog.open(tmp_path / "l.runlog").history("nope")


def test_export_wandb_and_json(wandb, tmp_path):
    r = wandb.init(config={"lr": 0.1})
    for s in range(3):
        wandb.log({"loss": 1.0 / (s + 1)})
    path = r.path
    wandb.finish()
    try:
        runlog.export(path, str(tmp_path / "wb"), format="wandb")
    except runlog.Unsupported:
        pytest.skip("W&B export not in this build")
    assert list((tmp_path / "wb").glob("offline-run-*"))
    try:
        runlog.export_json(path, str(tmp_path / "r.json"))
    except runlog.Unsupported:
        return  # JSON still moving into librunlog-export on this base
    import json
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["config"]["lr"] == 0.1
