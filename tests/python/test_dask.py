"""runlog.dask on a distributed.LocalCluster over a few hundred run files:
what the workers read equals the single-process reader."""
import os

import numpy as np
import pytest

import runlog
import runlog.dask

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

N_FILES = 300


def write_runs(root):
    # Through the C writer directly: ~1 ms a file.
    rng = np.random.default_rng(7)
    for i in range(N_FILES):
        folder = os.path.join(root, f"group{i % 3}")
        os.makedirs(folder, exist_ok=True)
        w = runlog.Writer(os.path.join(folder, f"run{i:04d}.runlog"), run_id=f"id{i:04d}",
                          project="dask", name=f"run{i}")
        w.config_json('{"lr": %r, "layers": %d}' % (float(rng.random()), i % 4))
        steps = 5 + i % 7
        for s in range(steps):
            row = {"loss": float(rng.random()), "acc": s / steps}
            if i % 5 == 0:
                row["epoch"] = s // 2           # ints: float64 in the frame
            if i % 11 == 0 and s % 2:
                row["note"] = f"s{s}"           # text: an object column
            w.log_scalars(row)
            w.commit(s * 2)                     # gaps: _step is the file's step
        w.summary("best", float(i))
        w.finish(0 if i % 13 else 1)
        w.close()


@pytest.fixture(scope="module")
def cluster():
    # Threads on loopback TCP: workers share the process, the scheduler and
    # the data go over 127.0.0.1 as between machines.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=False,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as c, distributed.Client(c) as client:
        yield client


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask-runs")
    write_runs(str(root))
    return root


def reference_history(paths, keys=None):
    frames = []
    for p in paths:
        run = runlog.open(p)
        ks = run.keys() if keys is None else [k for k in keys if k in run.keys()]
        f = run.history_frame(ks).reset_index()
        f.insert(0, "run_id", run.id)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def test_read_history_equals_the_single_process_reader(runs_dir, cluster):
    tmp_path = runs_dir
    paths = runlog.reader._paths(str(tmp_path))
    assert len(paths) == N_FILES
    df = runlog.dask.read_history(str(tmp_path))
    assert df.npartitions == N_FILES
    assert df.columns.tolist() == ["run_id", "_step", "_timestamp", "loss", "acc", "epoch", "note"]
    got = df.compute().reset_index(drop=True)
    want = reference_history(paths)[got.columns]
    assert len(got) == sum(5 + i % 7 for i in range(N_FILES))
    assert got["_step"].dtype == np.int64 and got["epoch"].dtype == np.float64
    for c in ["_step", "_timestamp", "loss", "acc", "epoch"]:
        np.testing.assert_array_equal(got[c].to_numpy(float), want[c].to_numpy(float), err_msg=c)
    assert got["run_id"].tolist() == want["run_id"].tolist()
    assert got["note"].tolist() == [None if v is None or v != v else v for v in want["note"]]
    # a computation on the cluster, against pandas on the reference
    best = df.groupby("run_id")["loss"].min().compute().sort_index()
    ref = want.groupby("run_id")["loss"].min().sort_index()
    np.testing.assert_array_equal(best.to_numpy(), ref.to_numpy())


def test_read_history_keys_and_runs(runs_dir, cluster):
    tmp_path = runs_dir
    paths = runlog.reader._paths(str(tmp_path))
    df = runlog.dask.read_history(paths, keys=["acc", "epoch"])
    assert df.columns.tolist() == ["run_id", "_step", "_timestamp", "acc", "epoch"]
    got = df.compute().reset_index(drop=True)
    want = reference_history(paths, ["acc", "epoch"])
    np.testing.assert_array_equal(got["epoch"].to_numpy(float), want["epoch"].to_numpy(float))

    r = runlog.dask.runs(str(tmp_path))
    assert r.npartitions == 3  # one per folder
    got = r.compute().sort_values("path").reset_index(drop=True)
    want = runlog.runs(str(tmp_path)).sort_values("path").reset_index(drop=True)
    assert got.columns.tolist() == want.columns.tolist()
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert (got["state"] == "failed").sum() == sum(1 for i in range(N_FILES) if i % 13 == 0)
