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
