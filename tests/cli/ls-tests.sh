#!/bin/bash
# CLI tests for `runlog ls` and `runlog tail -f` ending (TAP output).
#
# usage: ls-tests.sh RUNLOG
# Every command that could wait runs under `timeout`, so nothing hangs.
set -u

RUNLOG=$(realpath "$1")
PY=/usr/bin/python3
WORK=$(mktemp -d)
BG=
trap '[ -n "$BG" ] && kill -9 $BG 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/#   /' out err 2>/dev/null; }
# check DESC CMD...: passes when CMD succeeds.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# run WANT DESC CMD...: stdout in out, stderr in err, the status compared.
run() {
    local want=$1 desc=$2 rc
    shift 2
    timeout 20 "$@" >out 2>err
    rc=$?
    if [ "$rc" -eq "$want" ]; then pass "$desc (status $rc)"; else fail "$desc (status $rc, expected $want)"; fi
}
R="$RUNLOG"

# ---- a folder of runs -------------------------------------------------------
mkdir -p runs/sweep runs/other
for i in 1 2 3; do
    $R log runs/sweep/r$i.runlog --project mnist --name run$i --step 0 loss=0.$i >/dev/null
    $R log runs/sweep/r$i.runlog --step 1 loss=0.0$i val/acc=0.9$i >/dev/null
    $R finish runs/sweep/r$i.runlog --exit-code $((i == 3)) >/dev/null
done
$R log runs/other/a.runlog --project cifar --name alone loss=5 >/dev/null
$R finish runs/other/a.runlog >/dev/null
ln -s .. runs/other/loop          # a link loop: never followed
ln -s ../sweep/r1.runlog runs/other/link.runlog

run 0 "ls lists every run under a folder" $R ls runs/sweep runs/other/a.runlog
check "ls: a header and one line per run" [ "$(wc -l <out)" -eq 5 ]
check "ls: default columns" grep -q '^name  *id  *project  *group  *state  *start  *duration  *rows  *last_step  *damage  *summary.loss  *summary.val/acc$' out
check "ls: states finished and failed" bash -c "grep -q '^run1 .* finished ' out && grep -q '^run3 .* failed ' out"
check "ls: the id is shortened" bash -c "grep -Eq '^run1  +[0-9a-f]{8}  +mnist ' out"

run 1 "ls of a folder with a link: listed as unreadable (status 1)" $R ls runs
check "ls: the loop is not followed, the link listed with why" bash -c "grep -q 'link.runlog: a symbolic link' out && [ \$(grep -c '^run1 ' out) -eq 1 ]"

run 0 "ls -c chooses columns" $R ls runs/sweep -c name -c summary.loss -c config.missing
check "ls -c: the columns in order, missing values as -" bash -c "head -1 out | grep -q '^name  *summary.loss  *config.missing$' && grep -q '^run2  *0.02  *-$' out"

run 0 "ls --sort -summary.val/acc" $R ls runs/sweep -c name --sort -summary.val/acc
check "ls --sort: descending" [ "$(tail -n +2 out | tr -d ' ' | tr '\n' ,)" = "run3,run2,run1," ]
run 0 "ls --sort name" $R ls runs/sweep runs/other/a.runlog -c name --sort name
check "ls --sort: ascending" [ "$(tail -n +2 out | tr -d ' ' | tr '\n' ,)" = "alone,run1,run2,run3," ]

run 0 "ls --where KEY>N" $R ls runs/sweep -c name --where 'summary.val/acc>0.915'
check "ls --where: numeric comparison" [ "$(tail -n +2 out | tr -d ' ' | tr '\n' ,)" = "run2,run3," ]
run 0 "ls --where with and/or and text" $R ls runs -c name --where "state=finished and summary.loss<0.025 or name='alone'"
check "ls --where: and binds before or" [ "$(tail -n +2 out | tr -d ' ' | tr '\n' ,)" = "alone,run1,run2," ]
run 2 "ls --where that does not parse is a usage error" $R ls runs --where 'summary.loss ~ 3'
check "ls --where: the error says where" grep -q 'one of = != < <= > >= expected' err
run 2 "ls -c with an unknown column" $R ls runs -c bogus

run 0 "ls --group-by project" $R ls runs/sweep runs/other/a.runlog -c name --group-by project
check "ls --group-by: a heading per group" bash -c "grep -q '^== project=mnist (3 runs)$' out && grep -q '^== project=cifar (1 run)$' out"

run 0 "ls --json" $R ls runs/sweep --json
check "ls --json: json.load gives one object per run" $PY -c '
import json, sys
rows = json.load(open("out"))
assert len(rows) == 3, rows
r = {x["name"]: x for x in rows}
assert r["run1"]["state"] == "finished" and r["run3"]["state"] == "failed"
assert r["run2"]["rows"] == 2 and r["run2"]["last_step"] == 1
assert abs(r["run3"]["summary.val/acc"] - 0.93) < 1e-12
assert len(r["run1"]["id"]) == 36 and r["run1"]["damage"] is None'
run 0 "ls --csv" $R ls runs/sweep --csv
check "ls --csv: csv.DictReader gives one row per run" $PY -c '
import csv
rows = list(csv.DictReader(open("out", newline="")))
assert len(rows) == 3, rows
assert [r["name"] for r in rows] == ["run1", "run2", "run3"]
assert float(rows[0]["summary.loss"]) == 0.01 and rows[2]["state"] == "failed"'

# ---- damage ----------------------------------------------------------------
mkdir damaged
cp runs/sweep/r1.runlog damaged/good.runlog
echo "not a run-log" >damaged/junk.runlog
$PY - <<'PY'
data = bytearray(open("runs/sweep/r2.runlog", "rb").read())
data[200] ^= 0xFF   # inside the first frame's payload
open("damaged/flipped.runlog", "wb").write(data)
PY
run 1 "ls of damaged files: listed, status 1" $R ls damaged -c name -c state -c damage -c path
check "ls: the unreadable file is listed with why" grep -q 'unreadable  .*junk.runlog: byte 0: not a run-log' out
check "ls: the damaged file is listed with its damage" grep -Eq 'damaged range.*flipped.runlog$' out
check "ls: the good file is listed" grep -Eq '^run1 .*good.runlog$' out

# ---- one run in two files (copied: a duplicate is read once) -----------------
mkdir dup && cp runs/sweep/r1.runlog dup/a.runlog && cp runs/sweep/r1.runlog dup/b.runlog
run 0 "ls merges files of one run" $R ls dup -c name -c rows
check "ls: one line for the two copies" [ "$(wc -l <out)" -eq 2 ]

# ---- running, crashed, and tail -f ending ------------------------------------------
"$RUNLOG" run -o live.runlog --project live --name live -- sleep 30 >/dev/null 2>&1 &
BG=$!
for _ in $(seq 100); do [ -s live.runlog ] && "$RUNLOG" ls live.runlog -c name -c state 2>/dev/null | grep -q '^live  *running' && break; sleep 0.1; done
run 0 "ls of a live run" $R ls live.runlog -c name -c state
check "ls: a live run is running" grep -q '^live  *running$' out
timeout 20 "$RUNLOG" tail -f live.runlog >tail.out 2>tail.err &
TAIL=$!
sleep 0.5
kill -9 $BG
wait $BG 2>/dev/null
BG=
wait $TAIL
rc=$?
check "tail -f ends when the writer is killed (status 1)" [ $rc -eq 1 ]
check "tail -f says the run crashed" grep -q 'the run crashed' tail.err
run 0 "ls of a killed run" $R ls live.runlog -c name -c state
check "ls: a killed run is crashed" grep -q '^live  *crashed$' out

run 0 "tail -f of a finished run ends" $R tail -f runs/sweep/r1.runlog
check "tail -f says the run finished" grep -q 'the run finished' err
run 1 "tail -f of a failed run ends with status 1" $R tail -f runs/sweep/r3.runlog
check "tail -f says the run failed" grep -q 'the run failed (exit code 1)' err

# A run that finishes while followed: the writer is alive, then finishes.
"$RUNLOG" run -o fin.runlog --name fin -- sh -c 'echo hello; sleep 1' >/dev/null 2>&1 &
BG=$!
for _ in $(seq 100); do [ -s fin.runlog ] && break; sleep 0.05; done
timeout 20 "$RUNLOG" tail -f fin.runlog >tail.out 2>tail.err
rc=$?
wait $BG
BG=
check "tail -f follows a live run, then ends at its finish (status 0)" bash -c "[ $rc -eq 0 ] && grep -q hello tail.out && grep -q 'the run finished' tail.err"

# Between two `runlog log` calls no writer holds the file: without
# --ignore-lock that reads as crashed; with it, tail waits for the finish.
$R log grow.runlog --name grow loss=1 >/dev/null
run 1 "tail -f of a run no writer holds ends at once (crashed)" $R tail -f grow.runlog
timeout 20 "$RUNLOG" tail -f --ignore-lock grow.runlog >tail.out 2>tail.err &
TAIL=$!
sleep 0.3
$R log grow.runlog loss=2 >/dev/null
$R finish grow.runlog >/dev/null
wait $TAIL
rc=$?
check "tail -f --ignore-lock waits for the finish record (status 0)" bash -c "[ $rc -eq 0 ] && grep -q 'step 1: loss=2' tail.out && grep -q 'the run finished' tail.err"

$R log many.runlog --step 0 loss=0 acc=0 >/dev/null
for s in $(seq 1 9); do $R log many.runlog --step $s loss=$s acc=0.$s >/dev/null; done
$R finish many.runlog >/dev/null
run 0 "tail -n 3 -k loss" $R tail -n 3 -k loss many.runlog
check "tail -n 3: the last three rows, only loss" bash -c "[ \"\$(grep '^step' out | tr '\n' ,)\" = 'step 7: loss=7,step 8: loss=8,step 9: loss=9,' ]"
run 0 "tail -f -n 1 of a finished run" $R tail -f -n 1 many.runlog
check "tail -f -n 1: one row, then the finish" bash -c "[ \$(grep -c '^step' out) -eq 1 ] && grep -q 'finished, exit code 0' out"

echo "1..$n"
[ "$failed" -eq 0 ]
