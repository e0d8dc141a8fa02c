"""Run.histories(): every key in one pass, equal key for key to history(),
its arrays valid after the dict and the run are gone; history_frame over it."""
import gc

import numpy as np

import runlog


def _wide_run(wandb):
    run = wandb.init(project="p", name="wide")
    for step in range(50):
        row = {f"layer.{i}.norm": step * 0.5 + i for i in range(40)}
        if step % 3 == 0:
            row["val/acc"] = step / 100.0       # a sparse key
        if step == 7:
            row["note"] = "restart"             # a string key, one value
        wandb.log(row)
    path = run.path
    wandb.finish()
    return path


def test_histories_equal_history_per_key(wandb):
    r = runlog.open(_wide_run(wandb))
    every = r.histories()
    assert list(every) == r.keys()
    for k, h in every.items():
        one = r.history(k)
        assert h.key == k
        np.testing.assert_array_equal(h.steps, one.steps)
        np.testing.assert_array_equal(h.times, one.times)
        assert list(h.values) == list(one.values)
    assert len(every["val/acc"]) == 17 and list(every["note"].values) == ["restart"]


def test_histories_arrays_outlive_the_set_and_the_run(wandb):
    r = runlog.open(_wide_run(wandb))
    every = r.histories()
    steps, values = every["layer.3.norm"].steps, every["layer.3.norm"].values
    del every, r
    gc.collect()
    assert steps[-1] == 49 and values[10] == 10 * 0.5 + 3


def test_history_frame_reads_the_same_one_pass_or_per_key(wandb):
    r = runlog.open(_wide_run(wandb))
    whole = r.history_frame()
    assert whole.shape == (50, 43)               # _timestamp and 42 keys
    one = r.history_frame(keys=["val/acc"])
    np.testing.assert_array_equal(whole["val/acc"].dropna().to_numpy(), one["val/acc"].to_numpy())
