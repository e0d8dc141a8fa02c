"""W&B's "Track experiments" tutorial, with only the import changed.

Five simulated experiments, as wandb's quickstart writes them; each run
becomes one .runlog file under RUNLOG_DIR (or ./runlog/). Run from the build
tree with:  PYTHONPATH=build/python:python /usr/bin/python3 examples/wandb_tutorial.py
"""
import random

import runlog.wandb as wandb  # was: import wandb

epochs = 10
for run in range(5):
    wandb.init(
        project="basic-intro",
        name=f"experiment_{run}",
        config={"learning_rate": 0.02, "architecture": "CNN", "dataset": "CIFAR-100",
                "epochs": epochs},
    )
    offset = random.random() / 5
    for epoch in range(2, epochs):
        acc = 1 - 2 ** -epoch - random.random() / epoch - offset
        loss = 2 ** -epoch + random.random() / epoch + offset
        wandb.log({"acc": acc, "loss": loss})
    wandb.finish()

# Back in numpy/pandas: one row per run, the best by final accuracy.
import os  # noqa: E402

import runlog  # noqa: E402

runs = runlog.runs(os.environ.get("RUNLOG_DIR", "runlog"))
best = runs.sort_values("summary.acc", ascending=False).iloc[0]
print(f"best run: {best['name']} (acc {best['summary.acc']:.3f}) of {len(runs)}")
