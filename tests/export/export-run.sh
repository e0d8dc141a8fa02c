#!/usr/bin/env bash
# examples/export_run (a program that links only librunlog and
# librunlog-export) exports a run-log to JSON, CSV, HDF5 and a W&B offline
# run; each result must equal what the `runlog` command writes for the same
# file. Both write into the same folder in turn (the W&B transaction log
# holds absolute paths), then the two copies are compared.
# Usage: export-run.sh RUNLOG EXPORT_RUN RUN.runlog
set -uo pipefail
RUNLOG=$(realpath "$1")
EXPORT_RUN=$(realpath "$2")
RUN=$(realpath "$3")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
fail=0

"$EXPORT_RUN" "$RUN" out >/dev/null || { echo "FAIL export_run exited $?"; exit 1; }
mv out by-library
mkdir out
"$RUNLOG" export json "$RUN" -o out/run.json &&
    "$RUNLOG" export csv "$RUN" -o out/run.csv &&
    "$RUNLOG" export hdf5 "$RUN" -o out/run.h5 &&
    "$RUNLOG" export wandb "$RUN" -o out/wandb >/dev/null || { echo "FAIL the command failed"; exit 1; }
mv out by-command

for f in run.json run.csv; do
    if cmp -s "by-library/$f" "by-command/$f"; then echo "ok $f"; else echo "FAIL $f differs"; fail=1; fi
done
# HDF5 stores object times (seconds): compared as h5dump -p without them.
dump() { h5dump -p "$1" | grep -v -E 'CTIME|MTIME|ATIME' | sed "s|$2|DIR|g"; }
if cmp -s <(dump by-library/run.h5 by-library) <(dump by-command/run.h5 by-command); then
    echo "ok run.h5"
else
    echo "FAIL run.h5 differs"; fail=1
fi
# W&B's client ids (128 base-36 digits) are random, new in every export as
# W&B's SDK makes them: masked in the JSON files; the transaction log holds
# them too (and CRCs over them), so only its size is compared here (the
# wandb suite decodes it, and test_export_wandb compares it record by record).
mask() {
    find "$1" -type f | while read -r f; do
        case $f in
        *.wandb) stat -c %s "$f" > "$f.size" && rm "$f" ;;
        *.json) perl -pi -e 's/(?<![a-z0-9])[a-z0-9]{128}(?![a-z0-9])/ID/g' "$f" ;;
        esac
    done
}
mask by-library/wandb
mask by-command/wandb
if diff -r by-library/wandb by-command/wandb >/dev/null; then
    echo "ok wandb/ ($(find by-library/wandb -type f | wc -l) files)"
else
    echo "FAIL wandb/ differs"; diff -r by-library/wandb by-command/wandb | head; fail=1
fi
[ "$fail" -eq 0 ] && echo "4 passed, 0 failed"
exit "$fail"
