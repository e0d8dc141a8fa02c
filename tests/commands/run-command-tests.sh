#!/usr/bin/env bash
# The command's outputs on the demo's runs, compared with what the command
# wrote before the converters moved into librunlog-export (issue 12): the
# run-logs under tests/data/commands/runs/ were written by examples/demo.c
# and examples/train.c, and expected/ holds what `runlog` (at 45a2b3c, the
# last commit before the move) printed and wrote for each command below.
# Any change to these outputs must be deliberate: update expected/ in the
# same commit and say why (spec/EXPORTS.md change log).
#
# Usage: run-command-tests.sh RUNLOG DATADIR [--update]
#   DATADIR  tests/data/commands (runs/ and expected/)
set -uo pipefail
RUNLOG=$(realpath "$1")
DATA=$(realpath "$2")
UPDATE=${3:-}
RUNS=$DATA/runs
EXPECTED=$DATA/expected
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
cp -r "$RUNS" runs
passed=0
failed=0

# check NAME: compares $WORK/out/NAME with expected/NAME.
check() {
    if [ -n "$UPDATE" ]; then
        cp "out/$1" "$EXPECTED/$1"
        return
    fi
    if cmp -s "out/$1" "$EXPECTED/$1"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $1 differs from expected:"
        diff "$EXPECTED/$1" "out/$1" | head -20
    fi
}

# cmd NAME ARGS...: stdout, stderr and exit status of `runlog ARGS...`.
cmd() {
    local name=$1 rc=0
    shift
    "$RUNLOG" "$@" >out/stdout 2>out/stderr || rc=$?
    # Absolute paths of this run's work folder read as WORK.
    { cat out/stdout; echo "--- stderr"; cat out/stderr; echo "--- exit $rc"; } |
        sed "s|$WORK|WORK|g" >"out/$name"
    check "$name"
}

# tree NAME DIR: every file under DIR with its size and MD5 (what extract
# and export wandb wrote); the .wandb transaction log holds DIR's absolute
# path, so only its presence is listed (tests/wandb decode it). W&B's
# client ids (128 base-36 digits, new in every export as W&B makes them)
# are masked in JSON files before the MD5.
tree() {
    (cd "$2" && find . -type f | LC_ALL=C sort | while read -r f; do
        case $f in
        *.wandb) echo "$f (transaction log)" ;;
        *.json) echo "$f $(stat -c %s "$f") $(perl -pe 's/(?<![a-z0-9])[a-z0-9]{128}(?![a-z0-9])/ID/g' <"$f" |
                    md5sum | cut -d' ' -f1)" ;;
        *) echo "$f $(stat -c %s "$f") $(md5sum <"$f" | cut -d' ' -f1)" ;;
        esac
    done) >"out/$1"
    check "$1"
}

mkdir -p out
for r in runs/*.runlog; do
    n=$(basename "$r" .runlog)
    cmd "info-$n.txt" info "$r"
    cmd "export-$n.json" export json "$r"
    cmd "export-$n.csv" export csv "$r"
done
cmd info-train.json info --json runs/train.runlog
cmd verify.txt verify runs/experiment_1.runlog runs/train.runlog
cmd dump-experiment_1.jsonl dump runs/experiment_1.runlog
cmd history-train.csv history runs/train.runlog train/loss val/acc no-such-key
cmd export-train.jsonl export json --history-jsonl runs/train.runlog
cmd export-train-long.csv export csv --long runs/train.runlog
cmd export-sweep-with-run.csv export csv --with-run runs/experiment_1.runlog runs/experiment_2.runlog runs/train.runlog
cmd export-train-table.csv export csv --table predictions_table runs/train.runlog
cmd export-train-table-missing.csv export csv --table no-such-table runs/train.runlog
cmd extract-images.txt extract runs/train.runlog --images -o images
tree extract-images.tree images
cmd extract-model.txt extract runs/train.runlog --artifact mnist-cnn:latest -o model
tree extract-model.tree model
cmd extract-missing.txt extract runs/train.runlog --artifact no-such-model -o none
cmd export-wandb.txt export wandb runs/train.runlog -o wandb
tree export-wandb.tree wandb
cmd export-hdf5.txt export hdf5 runs/experiment_1.runlog runs/experiment_2.runlog -o sweep.h5
cmd export-hdf5-train.txt export hdf5 runs/train.runlog -o train.h5
if command -v h5dump >/dev/null; then
    # The object header times HDF5 stores change with the clock: left out.
    # The training run's dump (3 MB) is kept as its MD5.
    h5dump -p sweep.h5 2>&1 | grep -v -E 'CTIME|MTIME|ATIME' >out/export-hdf5.h5dump
    check export-hdf5.h5dump
    h5dump -p train.h5 2>&1 | grep -v -E 'CTIME|MTIME|ATIME' | md5sum >out/export-hdf5-train.h5dump.md5
    check export-hdf5-train.h5dump.md5
fi

[ -n "$UPDATE" ] && { echo "expected/ updated"; exit 0; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
