#!/usr/bin/python3
"""Compare a sweep of runs exported with `runlog export hdf5` (spec/HDF5.md).

    runlog export hdf5 demo-out/*.runlog -o demo-out/sweep.h5
    /usr/bin/python3 examples/analyze_sweep.py demo-out/sweep.h5 [PLOT.png]

Prints one line per run (name, learning rate, final loss, validation
accuracy), the best run by validation accuracy, and saves the loss curves of
every run as a PNG (default: next to the .h5 file, as sweep-loss.png).

The runs come from /runs_index, one row per run, into pandas in one call
(spec/HDF5.md §3.1); each row's `path` is its group, /runs/<id>.

Debian: python3-h5py, python3-numpy, python3-pandas, python3-matplotlib
(under /usr/bin/python3).
"""
import json
import os
import sys

import h5py
import matplotlib
import pandas as pd

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

# Validation accuracy: the first of these history keys a run has.
ACC_KEYS = ("val/acc", "val_acc", "acc")
# Loss curve: the first of these.
LOSS_KEYS = ("train/loss", "loss", "val/loss")


def first_series(run, keys):
    """(key, (steps, values)) of the first history key the run has, or (None, None).
    A key with '/' is a path: history/train/loss/."""
    for key in keys:
        if f"history/{key}/value" in run:
            g = run[f"history/{key}"]
            return key, (g["step"][:], g["value"][:])
    return None, None


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    h5path = sys.argv[1]
    png = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(h5path) or ".", "sweep-loss.png")
    best = None
    fig, ax = plt.subplots(figsize=(7, 4))
    with h5py.File(h5path, "r") as f:
        runs = pd.DataFrame(f["runs_index"][:])  # texts come as bytes: decoded once
        runs = runs.apply(lambda c: c.str.decode("utf-8") if c.dtype == object else c)
        for row in runs.itertuples():
            run = f[row.path]
            config = json.loads(row.config)
            name = row.name or row.id
            lr = config.get("learning_rate", config.get("lr"))
            acc_key, acc = first_series(run, ACC_KEYS)
            loss_key, loss = first_series(run, LOSS_KEYS)
            final_acc = float(acc[1][-1]) if acc else float("nan")
            final_loss = float(loss[1][-1]) if loss else float("nan")
            print(f"{name:20s} lr={lr!s:8s} {loss_key or 'loss'}={final_loss:.4f} "
                  f"{acc_key or 'acc'}={final_acc:.4f} ({row.state})")
            if acc and (best is None or final_acc > best[1]):
                best = (name, final_acc, acc_key, row.id)
            if loss:
                ax.plot(loss[0], loss[1], label=f"{name} ({loss_key})")
    if best:
        print(f"best run by validation accuracy: {best[0]} ({best[2]} = {best[1]:.4f}, id {best[3]})")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("loss curves")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    print(f"saved {png}")


main()
