#!/usr/bin/env bash
# Quick start, part 1: install what is missing, build, run the demo (five
# simulated experiments), export each run to JSON and CSV, show one run.
set -euo pipefail
cd "$(dirname "$0")"

./scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build

build/examples/demo demo-out
echo
for i in 1 2 3 4 5; do
    run="demo-out/experiment_$i"
    build/tools/runlog export json "$run.runlog" -o "$run.json"
    build/tools/runlog export csv "$run.runlog" -o "$run.csv"
    echo "exported $run.runlog -> $run.json, $run.csv"
done
echo
echo "\$ runlog info demo-out/experiment_1.runlog"
build/tools/runlog info demo-out/experiment_1.runlog

# Part 2: a classifier's training loop with a predictions table, images and
# a checkpoint per epoch; exported, and its images and last model extracted.
echo
build/examples/train demo-out
build/tools/runlog export json demo-out/train.runlog -o demo-out/train.json
build/tools/runlog export csv demo-out/train.runlog --table predictions_table -o demo-out/train-predictions.csv
build/tools/runlog extract demo-out/train.runlog --images -o demo-out/train-images | tail -n 1
build/tools/runlog extract demo-out/train.runlog --artifact mnist-cnn:latest -o demo-out/train-model | tail -n 1
echo "exported demo-out/train.runlog -> demo-out/train.json, train-predictions.csv, train-images/, train-model/"

# Part 3: the training run as a W&B offline run, for `wandb sync` on a
# machine with network access (spec/EXPORTS.md §10).
echo
rm -rf demo-out/wandb
build/tools/runlog export wandb demo-out/train.runlog -o demo-out/wandb
for d in demo-out/wandb/offline-run-*; do
    echo "$d/"
    (cd "$d" && find . -maxdepth 3 -not -path './files/media/images/*' | sort | sed 's|^\./|  |' | grep -v '^\.$')
    echo "  ($(find "$d/files/media/images" -type f | wc -l) PNGs under files/media/images/)"
done
echo "upload with: wandb sync demo-out/wandb/offline-run-*"

# Part 4: the sweep (five experiments and the training run) in one HDF5 file,
# compared with h5py: the best run by validation accuracy and a plot of the
# loss curves (examples/analyze_sweep.py, spec/HDF5.md).
echo
build/tools/runlog export hdf5 demo-out/experiment_*.runlog demo-out/train.runlog -o demo-out/sweep.h5
echo "exported the sweep -> demo-out/sweep.h5 ($(stat -c %s demo-out/sweep.h5) bytes)"
if /usr/bin/python3 -c 'import h5py, matplotlib' 2>/dev/null; then
    /usr/bin/python3 examples/analyze_sweep.py demo-out/sweep.h5 demo-out/sweep-loss.png
else
    echo "(h5py or matplotlib missing under /usr/bin/python3: skipped examples/analyze_sweep.py)"
fi

# Part 5: W&B's "Track experiments" tutorial in Python with only its import
# changed (import runlog.wandb as wandb), read back with runlog.runs().
if [ -d build/python ]; then
    echo
    rm -rf demo-out/python
    RUNLOG_DIR=demo-out/python PYTHONPATH=build/python:python /usr/bin/python3 \
        examples/wandb_tutorial.py
fi

# Part 5b, the main job: three real PyTorch runs of an MLP on MNIST-format
# files written from scikit-learn's digits (W&B's PyTorch tutorial: per-step
# train metrics, per-epoch val metrics, a predictions table, a checkpoint
# per epoch), the alerts tutorial's run; read back with runlog.runs(), the
# loss curves plotted, exported to W&B and HDF5 (examples/pytorch_mnist.py).
if [ -d build/python ] && /usr/bin/python3 -c 'import torch, torchvision, sklearn, matplotlib' 2>/dev/null; then
    echo
    rm -rf demo-out/pytorch
    PYTHONPATH=build/python:python /usr/bin/python3 examples/pytorch_mnist.py demo-out/pytorch
else
    echo "(torch, torchvision, sklearn or matplotlib missing under /usr/bin/python3: skipped examples/pytorch_mnist.py)"
fi

# Part 6: every run at a glance: the runs table (`runlog ls`) and one
# self-contained HTML page with every run's charts, tables and images
# (`runlog report`, spec/EXPORTS.md §12-13).
echo
echo "\$ runlog ls demo-out"
build/tools/runlog ls demo-out || true
if build/tools/runlog report demo-out -o demo-out/report.html; then
    echo "wrote demo-out/report.html ($(stat -c %s demo-out/report.html) bytes; open it in a browser)"
fi
