"""runlog.open(): the run read by the light pass (Reader.run_summary(), no
history values decoded but each key's last), with every attribute what the
full pass (Reader.run()) gives, on clean, resumed, crashed, torn, damaged,
golden and hostile files; where the two passes cannot agree (a malformed
column block only a full read meets), what open() and the reads after it do."""
import glob
import importlib
import math
import os
import shutil
import struct
import sys

import numpy as np
import pytest

import runlog
from runlog import _runlog

DATA = os.environ.get("RUNLOG_TEST_DATA") or os.path.join(os.path.dirname(__file__), "..", "data")


def same(a, b):
    """Equal, floats bit for bit (NaN payloads and -0.0 included)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        if len(a) > 4096 and a == b:
            return True  # a hostile file's 2^24 nulls: == is enough, and fast
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def attributes(run):
    return {
        "identity": run.identity, "id": run.id, "project": run.project, "name": run.name,
        "group": run.group, "job_type": run.job_type, "notes": run.notes, "tags": run.tags,
        "start_time": run.start_time, "state": run.state, "exit_code": run.exit_code,
        "end_time": run.end_time, "rows": run.rows, "last_step": run.last_step,
        "resumes": run.resumes, "config": run.config, "summary": run.summary,
        "metadata": run.metadata, "record_counts": run.record_counts, "keys": run.keys(),
        "artifacts": [a.info for a in run.artifacts()],
    }


def full_pass(path, tolerant):
    """The attributes Run took from Reader.run() before open() used the light pass."""
    d = _runlog.Reader(path, tolerant=tolerant).run()
    ident = d["identity"] or {}
    return {
        "identity": ident, "id": ident.get("id"), "project": ident.get("project"),
        "name": ident.get("name"), "group": ident.get("group"), "job_type": ident.get("job_type"),
        "notes": ident.get("notes"), "tags": list(ident.get("tags") or []),
        "start_time": ident.get("start_time"), "state": d["state"], "exit_code": d["exit_code"],
        "end_time": d["end_time"], "rows": d["rows"], "last_step": d["last_step"],
        "resumes": d["resumes"], "config": d["config"] or {}, "summary": d["summary"] or {},
        "metadata": d["metadata"] or {}, "record_counts": d["record_counts"],
        "keys": list(d["keys"]), "artifacts": list(d["artifacts"] or []),
    }


def outcome(f, *args):
    try:
        return ("ok", f(*args))
    except runlog.Error as e:
        return ("error", type(e).__name__, str(e))


def check_like_full_pass(path):
    for tolerant in (False, True):
        a = outcome(lambda: attributes(runlog.open(path, tolerant=tolerant)))
        b = outcome(full_pass, path, tolerant)
        if a[0] == b[0] == "ok":
            diff = [k for k in b[1] if not same(a[1][k], b[1][k])]
            assert not diff, (path, tolerant, {k: (a[1][k], b[1][k]) for k in diff})
        else:
            assert a == b, (path, tolerant)


def write_varied(path, finish=True, session=0):
    """Many frames; every history type, keys that stop early and change type
    within a batch, float last values that only bits tell apart, explicit
    summary values over auto ones, every other record kind."""
    w = runlog.Writer(path, run_id="varied", project="p", name="varied", group="g",
                      tags=["a", "b"], flush_interval_ms=0)
    if session == 0:
        w.config_json('{"lr": 0.01, "opt": {"name": "adam"}}')
        w.metadata_json('{"host": "n1"}')
    nan_payload = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000001234))[0]
    last = {"neg0": -0.0, "nan": nan_payload, "inf": -math.inf, "sub": 5e-324}
    first = 1000 * session
    for step in range(first, first + 1000):
        w.add("loss", 1.0 / (step + 1))
        if step < first + 100:
            w.add("early", step)
        if step % 7 == 0:
            w.add_string("sparse", "odd" if step % 2 else "even")
        if step % 3 == 0:
            w.add("mixed", step)
        elif step % 3 == 1:
            w.add("mixed", step + 0.5)
        else:
            w.add_json("mixed", "[1, 2]")
        w.add("flag", step % 2 == 0)
        w.add("big", 2**63 - 1 - step)
        for k, v in last.items():
            w.add(k, v if step == first + 999 else float(step))
        if step == first + 500:
            w.summary("loss", -1.0)
            w.config_json('{"epochs": 3}')
            w.alert("half", "way")
            w.console(1, b"half\n")
            w.system({"cpu": 0.5})
        w.commit(step)
        if step % 97 == 0:
            w.flush()
    if finish:
        w.finish(3)
    w.close()


def test_open_is_the_full_pass_on_written_files(tmp_path, wandb):
    clean = str(tmp_path / "clean.runlog")
    write_varied(clean)
    resumed = str(tmp_path / "resumed.runlog")
    write_varied(resumed, finish=False)
    write_varied(resumed, session=1)
    r = wandb.init(config={"lr": 0.1})
    for s in range(20):
        wandb.log({"loss": 1.0 / (s + 1), "img": wandb.Image(np.zeros((4, 4, 3), np.uint8)),
                   "tab": wandb.Table(columns=["a"], data=[[s]])})
    art = wandb.Artifact("model", type="model")
    (tmp_path / "w.bin").write_bytes(b"weights")
    art.add_file(str(tmp_path / "w.bin"))
    wandb.log_artifact(art, aliases=["best"])
    wandb.summary["acc"] = 0.9
    media = r.path
    wandb.finish()
    files = [clean, resumed, media]
    # torn tails, and flipped bytes (damage: tolerant, the full pass)
    data = open(clean, "rb").read()
    for i, cut in enumerate((len(data) // 3, len(data) // 2, len(data) - 5)):
        p = str(tmp_path / f"torn{i}.runlog")
        open(p, "wb").write(data[:cut])
        files.append(p)
    for i, at in enumerate(range(200, len(data), len(data) // 12)):
        p = str(tmp_path / f"flip{i}.runlog")
        b = bytearray(data)
        b[at] ^= 0x10
        open(p, "wb").write(bytes(b))
        files.append(p)
    for p in files:
        check_like_full_pass(p)
    assert any(_runlog.Reader(p, tolerant=True).run_summary()["damage"] for p in files)
    run = runlog.open(clean)
    assert run.rows == 1000 and run.state == "failed" and run.exit_code == 3
    assert run.summary["loss"] == -1.0 and run.summary["early"] == 99
    assert run.summary["mixed"] == 999 and run.summary["sparse"] == "even"
    for k in ("neg0", "nan", "inf", "sub", "big", "flag"):
        assert same(run.summary[k], run.history(k).values.tolist()[-1]), k
    assert struct.pack("<d", run.summary["nan"]) == struct.pack("<Q", 0x7FF8000000001234)
    assert runlog.open(resumed).resumes == 1


@pytest.mark.parametrize("kind", ["golden", "hostile"])
def test_open_is_the_full_pass_on_test_data(kind):
    pattern = "golden/**/*.runlog" if kind == "golden" else "hostile/*.runlog"
    files = sorted(glob.glob(os.path.join(DATA, pattern), recursive=True))
    assert len(files) > 10
    for p in files:
        check_like_full_pass(p)


def test_tolerant_open_of_damage_it_meets_reads_the_run_in_full():
    # A malformed column block holding the last value: the light pass alone
    # counts the rows of its record and gives the key a null; open() reads
    # the run as history() and records() do, the record skipped.
    for name in ("bitmap_fewer_than_column", "directory_raw_len_lies",
                 "packed_lengths_mismatch_values", "string_len_lies"):
        path = os.path.join(DATA, "hostile", name + ".runlog")
        light = _runlog.Reader(path, tolerant=True).run_summary()
        assert light["damage"] and light["rows"] > 5 and light["summary"]["loss"] is None
        run = runlog.open(path, tolerant=True)
        h = run.history("loss")
        assert run.rows == len(h.steps) == 5 and run.last_step == h.steps[-1] == 4
        assert run.summary == {"loss": h.values[-1]} and run.keys() == ["loss"]
        assert run.record_counts["history"] == 5
        with pytest.raises(runlog.Error):
            runlog.open(path)


def hostile_builder():
    for m in ("cbor2", "xxhash", "zstandard"):
        pytest.importorskip(m)
    sys.path.insert(0, os.path.join(DATA, "hostile"))
    try:
        return importlib.import_module("make_hostile")
    finally:
        sys.path.pop(0)


def test_open_does_not_decode_the_history(tmp_path):
    """A column block that is malformed although its frame's checksum holds,
    in a frame before the one holding the key's last value: open() does not
    decode it (the full pass did, and raised at open); the reads that do
    decode it meet it, with the full pass's error."""
    mh = hostile_builder()
    bad = mh.history_body([5, 6, 7, 8, 9], [(0, 3, b"\x07", 1)])  # 3 rows present, 5 values
    f0 = mh.rows_frame(0, 0, 5, extra=[mh.run_start()])
    f1 = mh.with_rows_record(bad, [mh.shuffle([mh.loss(s) for s in range(5, 10)])])
    f2 = mh.rows_frame(2, 10, 5)
    path = str(tmp_path / "late.runlog")
    with open(path, "wb") as f:
        f.write(mh.file_header() + f0 + f1 + f2 + mh.finish_frame(3))
    with pytest.raises(runlog.Corrupt) as full:
        _runlog.Reader(path).run()
    why = str(full.value)
    assert why.startswith(path + ": byte ") and "history column size" in why

    run = runlog.open(path)  # strict: no error here
    assert run.rows == 15 and run.last_step == 14 and run.state == "finished"
    assert run.keys() == ["loss"] and run.summary == {"loss": mh.loss(14)}
    assert run.record_counts["history"] == 15
    for read in (lambda: run.history("loss"), run.histories, run.history_frame,
                 lambda: list(run.records())):
        with pytest.raises(runlog.Corrupt) as e:
            read()
        assert str(e.value) == why
    assert _runlog.Reader(path).run_summary()["damage"] == 0

    # Tolerant: the reads skip the frame; open() still counts its rows.
    run = runlog.open(path, tolerant=True)
    assert run.rows == 15 and run.summary == {"loss": mh.loss(14)}
    h = run.history("loss")
    assert h.steps.tolist() == [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]
    assert h.values.tolist() == [mh.loss(s) for s in h.steps.tolist()]
    assert [r["step"] for r in run.records() if r["type"] == "history"] == h.steps.tolist()
    assert _runlog.Reader(path, tolerant=True).run()["rows"] == 10


def test_open_of_a_live_run(tmp_path):
    """The light pass reads what the file holds now, as the full pass did: a
    live run (a writer holding the lock) is running, its rows so far."""
    path = str(tmp_path / "live.runlog")
    w = runlog.Writer(path, flush_interval_ms=0)
    for s in range(10):
        w.add("x", float(s))
        w.commit(s)
    w.flush()
    run = runlog.open(path)
    assert run.state == "running" and run.rows == 10 and run.summary == {"x": 9.0}
    check_like_full_pass(path)
    w.close()
    shutil.copy(path, str(tmp_path / "copy.runlog"))
    check_like_full_pass(str(tmp_path / "copy.runlog"))
