"""runlog.runs(): librunlog's runs table (runlog_runs_*) from Python."""
import os

import pytest

import runlog


def make_runs(w, n=3):
    paths = []
    for i in range(n):
        r = w.init(project="sweep", name=f"r{i}", config={"lr": 10.0 ** -(i + 1), "arch": "mlp"})
        for s in range(4):
            w.log({"loss": (i + 1) * (4 - s)})
        paths.append(r.path)
        w.finish()
    return paths


def test_runs_table_columns_where_sort(wandb, tmp_path):
    pytest.importorskip("pandas")
    make_runs(wandb)
    df = runlog.runs(tmp_path)
    assert df.columns.tolist()[:11] == runlog.reader.RUNS_COLUMNS
    # a constant config key is a column too (the table's defaults leave it out)
    assert set(df["config.arch"]) == {"mlp"}
    assert df["damage"].isna().all() and (df["state"] == "finished").all()
    assert str(df["start"].dtype).startswith("datetime64[ns, UTC]")
    best = runlog.runs(tmp_path, where="summary.loss<3", sort="-config.lr")
    assert best["name"].tolist() == ["r0", "r1"]
    assert runlog.runs(tmp_path, columns=["name", "summary.loss"]).columns.tolist() == \
        ["name", "summary.loss"]


def test_runs_keeps_media_and_histograms_whole(wandb, tmp_path):
    pytest.importorskip("pandas")
    import numpy as np
    wandb.init(config={"opt": {"name": "adam", "betas": [0.9, 0.99]}})
    wandb.log({"weights": np.arange(1000.0), "img": wandb.Image(np.zeros((2, 2), np.uint8))})
    wandb.finish()
    row = runlog.runs(tmp_path).iloc[0]
    assert row["config.opt.name"] == "adam" and row["config.opt.betas"] == [0.9, 0.99]
    assert row["summary.weights"]["_type"] == "histogram"
    assert row["summary.img"]["_type"] == "image"
    assert not [c for c in row.index if c.startswith("summary.weights.")]


def test_runs_folder_search_is_the_librarys(wandb, tmp_path):
    pytest.importorskip("pandas")
    make_runs(wandb, 2)
    sub = tmp_path / "sub"
    sub.mkdir()
    other = tmp_path.parent / (tmp_path.name + "-elsewhere.runlog")
    os.replace(next(tmp_path.glob("*.runlog")), other)
    # a link inside the folder is never followed (runlog_find_runlogs)
    os.symlink(other, sub / "link.runlog")
    (sub / "junk.runlog").write_bytes(b"not a run-log" * 10)
    df = runlog.runs(tmp_path)
    by_path = dict(zip(df["path"], df["state"]))
    assert str(sub / "link.runlog") not in by_path
    assert by_path[str(sub / "junk.runlog")] == "unreadable"
    assert sorted(by_path.values()) == ["finished", "unreadable"]
    assert df.loc[df["state"] == "unreadable", "damage"].str.contains("junk.runlog").all()
    with pytest.raises(runlog.Error, match="junk.runlog"):
        runlog.runs(tmp_path, strict=True)
    # the file itself, named, is listed
    assert runlog.runs([other])["state"].tolist() == ["finished"]
    other.unlink()


def test_history_frame_timestamp_is_the_latest_of_the_step(wandb):
    pytest.importorskip("pandas")
    r = wandb.init()
    wandb.log({"a": 1.0}, commit=False)
    wandb.log({"b": 2})                      # step 0: a and b in one row
    wandb.log({"a": 3.0})                    # step 1: a only
    wandb.log({"b": 4})                      # step 2: b only
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    df = run.history_frame()
    ta, tb = run.history("a").times, run.history("b").times
    assert df.index.tolist() == [0, 1, 2]
    assert df["_timestamp"].tolist() == [max(ta[0], tb[0]) / 1e9, ta[1] / 1e9, tb[1] / 1e9]
    assert df["a"].tolist()[:2] == [1.0, 3.0] and df["b"].tolist()[::2] == [2, 4]
    assert run.history_frame([]).empty
