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
