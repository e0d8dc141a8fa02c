#!/bin/sh
# run-wandb-tests.sh RUNLOG MAKE_RUNS SRCDIR — `runlog export wandb` checked by
# an independent reader (check_wandb.py), then its failure behaviour: damaged
# input is skipped and reported (exit status 1), or with --strict stops with
# file and byte offset and leaves nothing behind, and an existing run
# directory is never overwritten.
set -eu
RUNLOG=$1 MAKE_RUNS=$2 SRC=$3
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$T/runs" "$T/pb"
"$MAKE_RUNS" "$T/runs"
# the decoder's schema: W&B's whole published schema (tests/wandb/schema/,
# gen_schema.py), compiled by protoc at test time; the encoder's subset must
# agree with it field for field (check_schema.py)
S=$SRC/tests/wandb/schema
protoc --proto_path="$S" --python_out="$T/pb" wandb_internal.proto wandb_base.proto wandb_telemetry.proto
protoc --proto_path="$S" --include_imports --descriptor_set_out="$T/full.pb" wandb_internal.proto
protoc --proto_path="$SRC/lib/export/wandb" --include_imports --descriptor_set_out="$T/subset.pb" \
    wandb_subset.proto
$PY "$SRC/tests/wandb/check_schema.py" "$T/subset.pb" "$T/full.pb"
R=$T/runs
# split-b before split-a: the export orders a run's files by start time
"$RUNLOG" export wandb "$R/full.runlog" "$R/crashed.runlog" "$R/resumed.runlog" \
    "$R/split-b.runlog" "$R/split-a.runlog" -o "$T/out" --project wandb-tests \
    --hash-references > "$T/export.txt"
cat "$T/export.txt"
$PY "$SRC/tests/wandb/check_wandb.py" "$RUNLOG" "$T/pb" "$R" "$T/out"

# exporting again into the same DIR: refused, the first export untouched
# A reference is a name: never opened by default, and with
# --hash-references only a regular file is read. A FIFO in its place must
# not block the export either way (issue 17 item 4).
ref=$(find "$R" -name shared-data.csv | head -n 1)
[ -n "$ref" ] || fail "make_runs wrote no shared-data.csv"
mv "$ref" "$ref.saved" && mkfifo "$ref"
for flag in "" --hash-references; do
    rm -rf "$T/ref-out"
    timeout 20 "$RUNLOG" export wandb "$R/full.runlog" -o "$T/ref-out" $flag > /dev/null ||
        fail "export wandb $flag with a FIFO as a reference: exit $? (124: it blocked)"
done
rm "$ref" && mv "$ref.saved" "$ref"

before=$(find "$T/out" -type f | sort | xargs md5sum | md5sum)
if "$RUNLOG" export wandb "$R/crashed.runlog" -o "$T/out" 2> "$T/err"; then
    fail "a second export over an existing run directory succeeded"
fi
grep -q "already exists" "$T/err" || fail "no 'already exists' message: $(cat "$T/err")"
after=$(find "$T/out" -type f | sort | xargs md5sum | md5sum)
[ "$before" = "$after" ] || fail "the existing export changed"

# damage in the middle of the file, --strict: error naming file and byte
# offset, no run directory and no staging directory left
cp "$R/full.runlog" "$T/bad.runlog"
size=$(stat -c %s "$T/bad.runlog")
$PY - "$T/bad.runlog" "$size" <<'PYEOF'
import sys
path, size = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:      # flip bytes halfway: a frame after the first
    f.seek(size // 2)
    b = f.read(16)
    f.seek(size // 2)
    f.write(bytes(x ^ 0x5A for x in b))
PYEOF
if "$RUNLOG" export wandb "$T/bad.runlog" -o "$T/bad-out" --strict 2> "$T/err"; then
    fail "export of a damaged file succeeded with --strict"
fi
cat "$T/err"
grep -q "bad.runlog: .*byte [0-9]" "$T/err" || fail "the error does not name file and byte offset"
[ -z "$(ls -A "$T/bad-out" 2>/dev/null)" ] || fail "something was left in DIR: $(ls -A "$T/bad-out")"
# the default (and --tolerant, the same): exported, the damage reported,
# exit status 1 (spec/EXPORTS.md §1.5)
for flag in "" --tolerant; do
    set +e
    "$RUNLOG" export wandb "$T/bad.runlog" -o "$T/tol-out$flag" $flag > /dev/null 2> "$T/err"
    rc=$?
    set -e
    [ "$rc" = 1 ] || fail "'$flag' exit status $rc, expected 1"
    grep -q "skipped" "$T/err" || fail "'$flag' did not report the damage: $(cat "$T/err")"
    ls "$T/tol-out$flag"/offline-run-*-full-run-1/run-full-run-1.wandb > /dev/null ||
        fail "'$flag' wrote no run"
done
echo "run-wandb-tests: all passed"
