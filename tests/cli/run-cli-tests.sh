#!/bin/bash
# CLI tests for `runlog` (TAP output).
#
# usage: run-cli-tests.sh RUNLOG CLI_FIXTURE SRCDIR
#   RUNLOG       the runlog executable
#   CLI_FIXTURE  the program that writes the fixed run-log (fixture.c)
#   SRCDIR       tests/cli, which holds expected/
#   TRAIN        (optional) examples/train, which writes a run with tables
#
# Outputs are compared with files under expected/, each checked by hand.
# The fixture has a fixed clock, run id, salt and file UUID, so its outputs
# are compared exactly. Runs made with `runlog log` have real times and a
# random id: there only times and ids are replaced (normalise) before
# comparing. RUNLOG_CLI_UPDATE=1 writes the outputs into expected/ instead
# (then read every changed file before keeping it).
set -u

RUNLOG=$(realpath "$1")
FIXTURE=$(realpath "$2")
EXPECTED=$(realpath "$3")/expected
TRAIN=${4:+$(realpath "$4")} # examples/train, for the table checks (optional)
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
show() { sed 's/^/#   /' "$1"; }

# run WANT_STATUS DESC CMD...: stdout in out, stderr in err.
run() {
    local want=$1 desc=$2 rc
    shift 2
    "$@" >out 2>err
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        pass "$desc"
    else
        fail "$desc (exit status $rc, wanted $want)"
        show err
    fi
}

# Replaces what differs from run to run in outputs of runs made by `runlog log`.
normalise() {
    sed -E \
        -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<ID>/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z/<TIME>/g' \
        -e 's/-?[0-9]+\.[0-9]{9}([^0-9]|$)/<SECONDS>\1/g' \
        -e 's/^(file size +|payload +).*/\1<SIZES>/'
}

# same NAME FILE [normalise]: compares FILE with expected/NAME.
same() {
    local name=$1 file=$2
    if [ "${3:-}" = normalise ]; then
        normalise <"$file" >"$file.norm"
        file=$file.norm
    fi
    if [ -n "${RUNLOG_CLI_UPDATE:-}" ]; then
        cp "$file" "$EXPECTED/$name"
    fi
    if diff -u "$EXPECTED/$name" "$file" >diff.txt; then
        pass "output matches expected/$name"
    else
        fail "output differs from expected/$name"
        show diff.txt
    fi
}

# has DESC FILE PATTERN: FILE holds a line matching the extended regex.
has() {
    if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1 (no /$3/ in $2)"; show "$2"; fi
}

# pyok DESC SCRIPT ARGS...: the Python check exits 0.
pyok() {
    local desc=$1
    shift
    if "$PY" -c "$@" >py.txt 2>&1; then pass "$desc"; else fail "$desc"; show py.txt; fi
}

# ---------------------------------------------------------------- help, usage

run 0 "--version" "$RUNLOG" --version
has "--version names the version" out '^runlog [0-9]+\.[0-9]+\.[0-9]+ \(file format 1\)$'
run 0 "--help" "$RUNLOG" --help
has "--help lists export" out 'runlog export json\|csv FILE'
run 0 "help export" "$RUNLOG" help export
cp out help1
run 0 "export --help" "$RUNLOG" export --help
if cmp -s out help1; then pass "help CMD and CMD --help agree"; else fail "help CMD and CMD --help differ"; fi
has "help export starts with usage" help1 '^usage: runlog export'

for args in "" "frob" "help frob" "info" "info a b" "info --bogus x" "verify" \
    "repair" "dump" "history x" "export" "export json" "export xml x" "export json x -o" \
    "export csv x --history-jsonl" "export json x --long" "log" "log x novalue" \
    "log x --step minus a=1" "log x --step 1 --no-commit a=1" "finish" \
    "finish x --exit-code two" "tail" "tail -x f"; do
    # shellcheck disable=SC2086
    run 2 "usage error: runlog $args" "$RUNLOG" $args
done
has "usage errors say what is wrong" err 'unknown option'

# ------------------------------------------------------------ bad input files

run 1 "info on a missing file" "$RUNLOG" info missing.runlog
has "the message names the missing file" err '^runlog: missing\.runlog'
echo "just some text, not a run-log" >notes.txt
for cmd in info verify dump "history" "export json" "export csv" "tail"; do
    extra=""
    [ "$cmd" = history ] && extra=acc
    # shellcheck disable=SC2086
    run 1 "$cmd on a text file" "$RUNLOG" $cmd notes.txt $extra
    has "$cmd names the text file" err '^runlog: notes\.txt'
done
run 1 "export -o with a missing input" "$RUNLOG" export csv missing.runlog -o never.csv
if [ ! -e never.csv ] && ! ls never.csv.tmp-* >/dev/null 2>&1; then
    pass "no output file after a failed export"
else
    fail "a failed export left an output file"
fi

# --------------------------------------------------------------- the fixture

if ! "$FIXTURE" fixture.runlog; then
    echo "Bail out! cli-fixture failed"
    exit 1
fi

run 0 "info" "$RUNLOG" info fixture.runlog
same info.txt out
run 0 "info --json" "$RUNLOG" info --json fixture.runlog
same info.json out
pyok "info --json parses" 'import json,sys; d=json.load(open(sys.argv[1])); assert d["run"]["state"]=="finished"' out
run 0 "verify" "$RUNLOG" verify fixture.runlog
same verify.txt out
run 0 "dump" "$RUNLOG" dump fixture.runlog
same dump.jsonl out
cp out dump.jsonl
pyok "every dump line parses" 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' dump.jsonl
run 0 "history" "$RUNLOG" history fixture.runlog acc note loss
same history.csv out
run 1 "history of a key that never appears" "$RUNLOG" history fixture.runlog acc nosuchkey
has "history names the missing key" err "nosuchkey"
run 0 "export json" "$RUNLOG" export json fixture.runlog
same export.json out
cp out export.json
pyok "export json parses and holds the run" '
import base64, json, sys
d = json.load(open(sys.argv[1]))
assert list(d)[:8] == ["run", "config", "summary", "metadata", "history", "system", "alerts", "console"], list(d)
assert d["run"]["id"] == "fixture-run-0001" and d["run"]["exit_code"] == 0
assert [r["_step"] for r in d["history"]] == [0, 1, 5]
assert d["history"][1]["loss"] == "NaN" and d["history"][2]["acc"] == "Infinity"
assert d["history"][2]["big"] == 9007199254740993
assert d["config"]["optimizer"]["betas"] == [0.9, 0.999]
assert d["summary"]["best_acc"] == 0.75
assert d["alerts"][0]["level"] == "WARN"
c = d["console"][1]
assert c["stream"] == "stderr" and base64.b64decode(c["data_base64"]) == b"bad \xff byte\n"
' export.json
run 0 "export json -o FILE" "$RUNLOG" export json fixture.runlog -o exported.json
if cmp -s exported.json export.json; then pass "-o FILE holds the same document"; else fail "-o FILE differs from stdout"; fi
run 0 "export json --history-jsonl" "$RUNLOG" export json --history-jsonl fixture.runlog -o -
same history.jsonl out
pyok "every JSON Lines row parses" 'import json,sys; assert len([json.loads(l) for l in open(sys.argv[1])]) == 3' out
run 0 "export csv" "$RUNLOG" export csv fixture.runlog
same wide.csv out
pyok "wide CSV reads back with the csv module" '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][:2] == ["_step", "_timestamp"] and len(set(map(len, rows))) == 1
assert rows[2][rows[0].index("note")] == "hi, \"quoted\"\nsecond line"
' out
run 0 "export csv --long" "$RUNLOG" export csv --long fixture.runlog
same long.csv out
run 0 "export csv --with-run" "$RUNLOG" export csv --with-run fixture.runlog
pyok "--with-run: the wide CSV after the run's columns, the same rows" '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
wide = list(csv.reader(open(sys.argv[2], newline="")))
h = rows[0]
assert h[:4] == ["_run_id", "_run_name", "_run_project", "_run_group"], h
s = h.index("_step")
assert all(c.startswith("config.") for c in h[4:s]) and s > 4, h
assert [r[s:] for r in rows] == wide and len(set(map(len, rows))) == 1
assert len({tuple(r[:s]) for r in rows[1:]}) == 1
' out "$EXPECTED/wide.csv"
run 0 "tail" "$RUNLOG" tail fixture.runlog
same tail.txt out
run 0 "tail -f on a finished run returns" timeout 60 "$RUNLOG" tail -f fixture.runlog
if cmp -s out "$EXPECTED/tail.txt"; then pass "tail -f prints the same"; else fail "tail -f differs"; show out; fi
run 1 "export -o into a missing folder" "$RUNLOG" export csv fixture.runlog -o no/such/dir.csv
has "the message names the output" err 'no/such/dir\.csv'

# A run that was never finished, and whose writer is gone, is "crashed".
"$FIXTURE" crashed.runlog --no-finish
run 0 "info on an unfinished run" "$RUNLOG" info crashed.runlog
has "an unfinished run without a writer is crashed" out '^state +crashed$'

# ------------------------------------------------------------------- damage

# Frame offsets of the rows, from dump: cut inside the frame of step 5, and
# damage the end of the frame of step 1.
read -r off1 next1 off5 < <("$PY" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
offs = sorted({r["offset"] for r in recs})
row = {r["step"]: r["offset"] for r in recs if r["type"] == "history"}
print(row[1], min(o for o in offs if o > row[1]), row[5])' dump.jsonl)

head -c $((off5 + 20)) fixture.runlog >torn.runlog
run 1 "verify finds a torn tail" "$RUNLOG" verify torn.runlog
has "verify names the torn tail's offset" out "^torn\.runlog: byte $off5: torn tail"
has "verify says DAMAGED" out '^torn\.runlog: DAMAGED'
run 1 "info reports the torn tail" "$RUNLOG" info torn.runlog
has "info shows the damage" out "^damage +byte $off5, "
run 0 "export csv of a torn file" "$RUNLOG" export csv torn.runlog
same torn.csv out
has "export warns about the torn tail" err "^runlog: torn\.runlog: byte $off5: torn tail"

cp fixture.runlog flipped.runlog
printf '\x5a' | dd of=flipped.runlog bs=1 seek=$((next1 - 3)) conv=notrunc status=none
run 1 "verify finds a damaged frame" "$RUNLOG" verify flipped.runlog
has "verify names the damaged frame's offset" out "^flipped\.runlog: byte $off1: "
run 1 "export csv of a damaged file exits 1" "$RUNLOG" export csv flipped.runlog
has "rows before the damage are exported" out '^0,'
has "rows after the damage are exported" out '^5,'
if grep -q '^1,' out; then fail "the damaged row was exported"; else pass "the damaged row is left out"; fi
has "export names the damaged offset" err "^runlog: flipped\.runlog: byte $off1: "

cp torn.runlog repaired.runlog
run 0 "repair a torn file" "$RUNLOG" repair repaired.runlog
has "repair reports the cut" out "^repaired\.runlog: cut 20 bytes at byte $off5 \(kept in repaired\.runlog\.torn-$off5\)"
if cmp -s repaired.runlog.torn-$off5 <(tail -c 20 torn.runlog); then
    pass "the sidecar holds the cut bytes"
else
    fail "the sidecar does not hold the cut bytes"
fi
run 0 "verify after repair" "$RUNLOG" verify repaired.runlog
has "the repaired file is intact" out '^repaired\.runlog: OK'

# ------------------------------------------------------- runlog log / finish

L=made.runlog
run 0 "log creates a run" "$RUNLOG" log $L --project cli --name made i=3 f=1.5 t=true s=hello
run 0 "log a second row" "$RUNLOG" log $L i=-7 f=nan g=inf h=-inf x=1e3 s="two words, one comma"
run 0 "log at an explicit step" "$RUNLOG" log $L --step 10 i=9223372036854775807 f=-0.0 b=false
cp $L before-refused.runlog
run 1 "log refuses a step going back" "$RUNLOG" log $L --step 3 i=1
has "the refusal names the steps" err 'step 3 is lower than the last step 10'
if cmp -s $L before-refused.runlog; then pass "a refused log leaves the file as it was"; else fail "a refused log changed the file"; fi
run 1 "log refuses step 2^64-1" "$RUNLOG" log $L --step 18446744073709551615 i=1
has "the refusal names the limit" err 'step 18446744073709551615 is over the limit of 18446744073709551614'
if cmp -s $L before-refused.runlog; then pass "a log refused for its step leaves the file as it was"; else fail "a log refused for its step changed the file"; fi
run 0 "log at the highest step" "$RUNLOG" log maxstep.runlog --step 18446744073709551614 a=1
cp maxstep.runlog before-maxstep.runlog
run 1 "log refuses an automatic step after the highest" "$RUNLOG" log maxstep.runlog a=2
has "the refusal says why" err 'no automatic step follows the last step 18446744073709551614'
if cmp -s maxstep.runlog before-maxstep.runlog; then pass "the refused automatic step leaves the file as it was"; else fail "the refused automatic step changed the file"; fi
# The step is refused before the open cuts a torn tail (torn.runlog: the
# rows of steps 0 and 1 intact, the frame of step 5 torn) or creates a file.
cp torn.runlog torn-refused.runlog
run 1 "log refuses a step going back in a torn file" "$RUNLOG" log torn-refused.runlog --step 0 i=1
has "the refusal names the last intact step" err 'torn-refused\.runlog: step 0 is lower than the last step 1'
if cmp -s torn-refused.runlog torn.runlog && ! ls torn-refused.runlog.torn-* >/dev/null 2>&1; then
    pass "a refused log leaves the torn tail in place and makes no sidecar"
else
    fail "a refused log cut the torn tail"
fi
run 1 "log refuses step 2^64-1 for a new file" "$RUNLOG" log refused-new.runlog --step 18446744073709551615 i=1
if [ ! -e refused-new.runlog ]; then pass "a refused log creates no file"; else fail "a refused log created a file"; fi
run 0 "verify the run at the highest step" "$RUNLOG" verify maxstep.runlog
run 0 "log --no-commit" "$RUNLOG" log $L --no-commit pending=1
run 0 "the next log commits the pending value" "$RUNLOG" log $L i=11 big=99999999999999999999 e= 
run 0 "finish --exit-code 3" "$RUNLOG" finish $L --exit-code 3
run 0 "export the logged run as JSON Lines" "$RUNLOG" export json --history-jsonl $L
same log-history.jsonl out normalise
run 0 "export the logged run as CSV" "$RUNLOG" export csv $L
same log-wide.csv out normalise
run 0 "info on the logged run" "$RUNLOG" info $L
same log-info.txt out normalise
run 0 "tail the logged run" "$RUNLOG" tail $L
same log-tail.txt out
run 1 "finish on a missing file" "$RUNLOG" finish nothere.runlog
if [ ! -e nothere.runlog ]; then pass "finish does not create a run"; else fail "finish created a run"; fi

# tail -f follows a live file until the run finishes (timeout only guards
# against a hang; nothing here depends on timing).
"$RUNLOG" log live.runlog --name live a=1
# Between two `runlog log` calls no writer holds the file, which tail -f
# reads as a crash; --ignore-lock waits for the finish record instead.
timeout 60 "$RUNLOG" tail -f --ignore-lock live.runlog >follow.out 2>follow.err &
tail_pid=$!
"$RUNLOG" log live.runlog a=2
"$RUNLOG" log live.runlog a=3
"$RUNLOG" finish live.runlog
if wait $tail_pid; then pass "tail -f exits 0 after the finish record"; else fail "tail -f failed"; show follow.err; fi
same follow.txt follow.out

# ------------------------------------------------------------------ runlog run

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (the bound
# only turns a hang into a failure; nothing here depends on timing).
wait_for() {
    local i=0
    until grep -Eq -- "$2" "$1" 2>/dev/null || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
}

for args in "run" "run --interval x -- true" "run --bogus -- true" "run -o"; do
    # shellcheck disable=SC2086
    run 2 "usage error: runlog $args" "$RUNLOG" $args
done

# The command's bytes reach runlog's stdout and stderr unchanged and are
# recorded: binary bytes, \r progress, a last line without its newline. The
# command waits until a system sample is in the file before it ends.
printf 'line one\n\000\001\377 binary\r50%%\r100%%\nno newline at the end' >want-out.bin
printf 'to stderr\n' >want-err.bin
run 3 "run: the exit status is the command's" "$RUNLOG" run -o run1.runlog --interval 0.1 \
    --project cli --name r1 --tag a --tag b -- sh -c "cat want-out.bin; cat want-err.bin >&2
        i=0; until '$RUNLOG' dump run1.runlog | grep -q '\"type\":\"system\"' || [ \$i -ge 600 ]; do
            sleep 0.1; i=\$((i + 1)); done; exit 3"
if cmp -s out want-out.bin; then pass "run: stdout passes through unchanged"; else fail "run: stdout changed"; fi
if cmp -s err want-err.bin; then pass "run: stderr passes through unchanged"; else fail "run: stderr changed"; show err; fi
run 0 "run: export json" "$RUNLOG" export json run1.runlog -o run1.json
pyok "run: console bytes, metadata and system samples recorded" '
import base64, json, os, socket, sys
d = json.load(open(sys.argv[1]))
got = {"stdout": b"", "stderr": b""}
for c in d["console"]:
    got[c["stream"]] += base64.b64decode(c["data_base64"]) if "data_base64" in c else c["text"].encode()
assert got["stdout"] == open("want-out.bin", "rb").read(), got["stdout"]
assert got["stderr"] == open("want-err.bin", "rb").read(), got["stderr"]
r, m = d["run"], d["metadata"]
assert r["state"] == "failed" and r["exit_code"] == 3 and r["tags"] == ["a", "b"], r
assert m["host"] == socket.gethostname() and m["argv"][:2] == ["sh", "-c"], m
assert m["cwd"] == os.getcwd() and m["executable"].endswith("sh") and m["pid"] > 0, m
ncpu = os.cpu_count()
assert len(d["system"]) >= 1
# A sample taken after the command exited has no proc.* metrics (there is no
# process tree left to measure); the command itself was measured at least once.
assert any("proc.memory.rssMB" in s for s in d["system"]), d["system"]
for s in d["system"]:
    assert s["_runtime"] >= 0 and s.get("proc.memory.rssMB", 1) > 0, s
    assert 0 <= s.get("cpu", 0) <= 100 * ncpu and 0 < s["memory_percent"] <= 100, s
' run1.json
# disk_mount (spec/EXPORTS.md §8.1) is the run-log's filesystem, checked here
# apart from /proc/self/mountinfo: it lies between the folder where the
# device changes (os.path.ismount) and the run-log's folder (a bind mount of
# a folder of the same device is a mount point that ismount does not see).
# A run-log on /dev/shm (when that is a filesystem of its own) gets /dev/shm's
# mount, not the working directory's.
MOUNT_OF='
import os, sys
def mount_point(p):
    p = os.path.realpath(p)
    while not os.path.ismount(p):
        p = os.path.dirname(p)
    return p
def under(top, p):
    return top == "/" or p == top or p.startswith(top + "/")
def holds(mount, folder):
    return under(mount, os.path.realpath(folder)) and under(mount_point(folder), mount)
'
pyok "run: disk_mount is the run-log folder's mount point" "$MOUNT_OF"'
import json
m = json.load(open(sys.argv[1]))["metadata"]
assert holds(m["disk_mount"], "."), m
' run1.json
SHM=$(mktemp -d /dev/shm/runlog-cli-XXXXXX 2>/dev/null) || SHM=
if [ -n "$SHM" ] && [ "$(stat -c %d "$SHM")" != "$(stat -c %d .)" ]; then
    run 0 "run: a run-log on /dev/shm" "$RUNLOG" run -o "$SHM/shm.runlog" --interval 0 -- true
    "$RUNLOG" export json "$SHM/shm.runlog" >shm.json
    pyok "run: disk_mount of a run-log on /dev/shm is its filesystem's" "$MOUNT_OF"'
import json
m = json.load(open(sys.argv[1]))["metadata"]
assert holds(m["disk_mount"], sys.argv[2]) and not holds(m["disk_mount"], "."), m
' shm.json "$SHM"
else
    pass "run: disk_mount on /dev/shm # SKIP no /dev/shm on a filesystem of its own"
fi
[ -z "$SHM" ] || rm -rf "$SHM"
run 0 "run: tail shows the console and the end" "$RUNLOG" tail run1.runlog
same run-tail.txt out
run 0 "run: dump" "$RUNLOG" dump run1.runlog
has "run: dump shows system samples with their fields" out '"type":"system",.*"step":0,"fields":\{"'
has "run: dump shows the metadata" out '"type":"metadata",.*"body":\{"t":[0-9]+,"set":\{"host":'
run 0 "run: info" "$RUNLOG" info run1.runlog
has "run: info shows the host" out '^host +[^ ]'
has "run: info shows the command" out '^command +sh -c '
has "run: info counts the system samples" out '^system +[1-9][0-9]* samples$'
run 0 "run: info --json" "$RUNLOG" info --json run1.runlog
pyok "run: info --json has metadata and the sample count" '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["metadata"]["argv"][0] == "sh" and d["system_samples"] >= 1
' out

# Killed by a signal: exit status 128 + N, the signal in metadata and an alert.
run 143 "run: a command killed by SIGTERM" "$RUNLOG" run -o term.runlog --interval 0 -- sh -c 'kill -TERM $$'
run 137 "run: a command killed by SIGKILL" "$RUNLOG" run -o kill.runlog --interval 0 -- sh -c 'kill -KILL $$'
"$RUNLOG" export json term.runlog >term.json
"$RUNLOG" export json kill.runlog >kill.json
pyok "run: the killing signal is recorded" '
import json, sys
for path, name, code in (("term.json", "SIGTERM", 143), ("kill.json", "SIGKILL", 137)):
    d = json.load(open(path))
    assert d["run"]["state"] == "failed" and d["run"]["exit_code"] == code, d["run"]
    assert d["metadata"]["exit_signal"] == name, d["metadata"]
    assert d["alerts"][0]["level"] == "ERROR" and name in d["alerts"][0]["title"], d["alerts"]
    assert d["system"] == []
' x

# Signals sent to runlog reach the command.
"$RUNLOG" run -o usr1.runlog --interval 0 -- sh -c \
    'trap "echo got USR1; exit 7" USR1; echo ready; while :; do sleep 0.05; done' >usr1.out 2>usr1.err &
run_pid=$!
wait_for usr1.out '^ready$'
kill -USR1 $run_pid
wait $run_pid
rc=$?
if [ $rc -eq 7 ]; then pass "run: SIGUSR1 passed on; exit status 7"; else fail "run: exit status $rc after SIGUSR1"; show usr1.err; fi
has "run: the command got SIGUSR1" usr1.out '^got USR1$'

# RUNLOG_METRICS_FD: one JSON object per line is one row.
printf '%s\n' '{"a": 1}' '{"_step": 10, "a": NaN, "b": Infinity, "c": -Infinity, "s": "NaN"}' \
    'not json' '{"_step": 5, "a": 2}' '{"nested": {"k": [1, 2.5]}, "t": "text", "f": false, "n": null}' \
    '{"_alert": {"title": "Loss is NaN", "text": "at step 10", "level": "WARN"}}' >metrics.txt
printf '{"last": 1}' >>metrics.txt
run 0 "run: metrics lines" "$RUNLOG" run -o metrics.runlog --interval 0 \
    --alert-command 'printf "%s|%s|%s" "$RUNLOG_ALERT_LEVEL" "$RUNLOG_ALERT_TITLE" "$RUNLOG_ALERT_TEXT" >alert.tmp && mv alert.tmp alert.txt' \
    -- sh -c 'cat metrics.txt >&$RUNLOG_METRICS_FD'
has "run: a line that is not JSON is reported" err 'RUNLOG_METRICS_FD line 3: not a JSON object'
has "run: a step going back is reported" err 'RUNLOG_METRICS_FD line 4: row dropped: .*step'
run 0 "run: export the metrics rows" "$RUNLOG" export json --history-jsonl metrics.runlog
same run-metrics.jsonl out normalise
wait_for alert.txt .
if [ "$(cat alert.txt 2>/dev/null)" = "WARN|Loss is NaN|at step 10" ]; then
    pass "run: the alert command ran with the alert in its environment"
else
    fail "run: the alert command did not run as expected"; show alert.txt
fi

# Thousands of rows a second: 20,000 lines from Python, every value checked.
t0=$(date +%s%N)
run 0 "run: 20000 metrics rows" "$RUNLOG" run -o many.runlog --interval 0 --no-metadata -- "$PY" -c '
import json, os
f = os.fdopen(int(os.environ["RUNLOG_METRICS_FD"]), "w")
for i in range(20000):
    f.write(json.dumps({"i": i, "x": i * 0.5, "s": "r%d" % i}) + "\n")
'
t1=$(date +%s%N)
echo "# runlog run: 20000 metrics rows in $(( (t1 - t0) / 1000000 )) ms, $(( 20000 * 1000000000 / (t1 - t0) )) rows/s (with Python's start-up)"
"$RUNLOG" export json --history-jsonl many.runlog >many.jsonl
pyok "run: every metrics row arrived with its values" '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 20000, len(rows)
for k, r in enumerate(rows):
    assert (r["_step"], r["i"], r["x"], r["s"]) == (k, k, k * 0.5, "r%d" % k), r
' many.jsonl

# A command that cannot start; --no-console; the default file name.
run 127 "run: a missing command" "$RUNLOG" run -o missing.runlog -- ./no-such-command
has "run: the message names the command" err '^runlog run: \./no-such-command: No such file'
run 0 "run --no-console" "$RUNLOG" run -o direct.runlog --no-console --interval 0 -- sh -c 'echo direct'
has "run --no-console: output still shown" out '^direct$'
run 0 "run --no-console: info" "$RUNLOG" info direct.runlog
if grep -q console out; then fail "run --no-console recorded console output"; else pass "run --no-console records no console"; fi
mkdir -p default && (cd default && "$RUNLOG" run --interval 0 -- true) >out 2>err
has "run: the default file name is announced" err '^runlog run: writing runlog-[0-9]{8}_[0-9]{6}-[0-9]+\.runlog$'
if ls default/runlog-*.runlog >/dev/null 2>&1; then pass "run: the default file exists"; else fail "run: no default file"; fi

# ------------------------------------------- media: images, artifacts, tables

# Inputs: a 1x1 RGB PNG and a 3x2 grey JPEG (the bytes of tests/test_media.c,
# checked there by hand), an artifact folder, a file for --reference.
"$PY" -c '
import struct, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open("a.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
                          + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00")) + chunk(b"IEND", b""))
open("b.jpg", "wb").write(bytes.fromhex(
    "ffd8ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123251d283a333d3c3933383740485c4e404457"
    "453738506d51575f626768673e4d71797064785c656763ffc0000b080002000301011100ffc400140001000000000000"
    "00000000000000000006ffc4001d1000000505000000000000000000000000000203040515243253d1ffda0008010100"
    "003f00551b1cc69e8d937c751783ffd9"))
'
mkdir -p art/sub
head -c 300000 /dev/urandom >art/weights.bin
printf '{"lr": 0.1}\n' >art/sub/config.json
cp -r art art-v0
head -c 5000 /dev/urandom >shared.bin

M=media.runlog
run 0 "log --image (PNG, JPEG, two under one key)" "$RUNLOG" log $M --name media \
    --image sample=a.png --image sample=b.jpg --image other/key=a.png loss=0.5
cp $M before-bad-image.runlog
run 1 "log --image refuses a file that is no PNG or JPEG" "$RUNLOG" log $M --image x=notes.txt
has "the refusal names the file" err 'notes\.txt: not a PNG or JPEG'
if cmp -s $M before-bad-image.runlog; then pass "a refused image leaves the file as it was"; else fail "a refused image changed the file"; fi
run 0 "artifact logs a folder" "$RUNLOG" artifact $M --name ckpt --type model --alias best \
    --description "first" --metadata '{"epoch": 1}' art
has "artifact prints NAME:v0" out '^ckpt:v0$'
run 0 "artifact with identical content" "$RUNLOG" artifact $M --name ckpt --type model --alias again art
has "identical content keeps v0" out '^ckpt:v0$'
printf '{"lr": 0.2}\n' >art/sub/config.json
run 0 "artifact with new content" "$RUNLOG" artifact $M --name ckpt --type model art
has "new content makes v1" out '^ckpt:v1$'
run 0 "artifact --reference" "$RUNLOG" artifact $M --name shared --reference shared.bin
run 2 "artifact refuses an empty name" "$RUNLOG" artifact $M --name "" art
run 1 "artifact of a missing path" "$RUNLOG" artifact $M --name ckpt nothere
has "the message names the missing path" err 'nothere'

run 0 "extract --artifact NAME:v0" "$RUNLOG" extract $M --artifact ckpt:v0 -o x0
if cmp -s x0/weights.bin art-v0/weights.bin && cmp -s x0/sub/config.json art-v0/sub/config.json; then
    pass "v0's files are identical to the sources"
else
    fail "v0's files differ from the sources"
fi
run 0 "extract --artifact NAME (latest)" "$RUNLOG" extract $M --artifact ckpt -o xl
if cmp -s xl/sub/config.json art/sub/config.json; then pass "latest is v1"; else fail "latest is not v1"; fi
run 0 "extract --artifact NAME:ALIAS" "$RUNLOG" extract $M --artifact ckpt:again -o xa
if cmp -s xa/sub/config.json art-v0/sub/config.json; then pass "the alias 'again' is on v0"; else fail "alias again is not on v0"; fi
run 1 "extract of an unknown version" "$RUNLOG" extract $M --artifact ckpt:v7 -o xn
run 0 "extract a reference" "$RUNLOG" extract $M --artifact shared -o xr
has "a reference is listed" out '^reference shared\.bin -> .*/shared\.bin \(5000 bytes, not fetched\)$'
if [ ! -e xr/shared.bin ]; then pass "a reference is not fetched"; else fail "a reference was fetched"; fi

run 0 "extract --images" "$RUNLOG" extract $M --images -o imgs
has "extract --images counts" out '^extracted 3 images into imgs$'
if cmp -s imgs/sample_0_0.png a.png && cmp -s imgs/sample_0_1.jpg b.jpg && cmp -s imgs/other_key_0_0.png a.png; then
    pass "PNG and JPEG images are written as logged, named KEY_STEP_INDEX"
else
    fail "extracted images differ or are misnamed"; ls imgs | sed 's/^/#   /'
fi

run 0 "info lists artifacts and images" "$RUNLOG" info $M
has "info: ckpt v0 with its aliases" out '^ +ckpt:v0 \(model, 300012 bytes, 2 files\) aliases: best, again$'
has "info: ckpt v1 is latest" out '^ +ckpt:v1 \(model, 300012 bytes, 2 files\) aliases: latest$'
has "info: images" out '^images +3 in rows, 0 in table cells$'
run 0 "export json with media" "$RUNLOG" export json $M -o media.json
pyok "export json lists artifacts and images, digests as hex" '
import json, sys, xxhash
d = json.load(open(sys.argv[1]))
png, jpg = open("a.png", "rb").read(), open("b.jpg", "rb").read()
im = d["images"]
assert [(i["key"], i["step"], i["index"], i["file"]) for i in im] == [
    ("sample", 0, 0, "sample_0_0.png"), ("sample", 0, 1, "sample_0_1.jpg"), ("other/key", 0, 0, "other_key_0_0.png")], im
assert im[0]["digest"] == xxhash.xxh3_128_hexdigest(png) and im[1]["digest"] == xxhash.xxh3_128_hexdigest(jpg)
assert (im[0]["format"], im[0]["width"], im[0]["height"], im[0]["size"]) == ("png", 1, 1, len(png))
assert (im[1]["format"], im[1]["width"], im[1]["height"], im[1]["size"]) == ("jpeg", 3, 2, len(jpg))
cell = d["history"][0]["sample"]
assert [c["file"] for c in cell] == ["sample_0_0.png", "sample_0_1.jpg"] and cell[0]["digest"] == im[0]["digest"]
a = {(x["name"], x["version"]): x for x in d["artifacts"]}
assert sorted(a) == [("ckpt", 0), ("ckpt", 1), ("shared", 0)], sorted(a)
e = {x["path"]: x for x in a[("ckpt", 0)]["entries"]}
assert sorted(e) == ["sub/config.json", "weights.bin"]
assert e["weights.bin"]["digest"] == xxhash.xxh3_128_hexdigest(open("art-v0/weights.bin", "rb").read())
assert a[("ckpt", 0)]["metadata"] == {"epoch": 1} and a[("ckpt", 0)]["description"] == "first"
assert "ref" in a[("shared", 0)]["entries"][0] and d["tables"] == []
' media.json

# Tables (a run of examples/train: five 100-row tables with images).
if [ -n "$TRAIN" ]; then
    "$TRAIN" tr >/dev/null
    T=tr/train.runlog
    run 0 "export csv --table KEY@STEP" "$RUNLOG" export csv $T --table predictions_table@20
    cp out table20.csv
    run 0 "extract --images of table cells" "$RUNLOG" extract $T --images -o timgs
    has "every table image is extracted" out '^extracted 500 images into timgs$'
    pyok "the table CSV has its columns, 100 rows, and image cells naming extracted files" '
import csv, os, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["image", "pred", "target"] + ["score_%d" % i for i in range(10)], rows[0]
assert len(rows) == 101 and all(len(r) == 13 for r in rows)
assert rows[1][0] == "predictions_table_20_0_image.png", rows[1][0]
assert all(os.path.getsize(os.path.join("timgs", r[0])) > 0 for r in rows[1:])
assert all(abs(sum(map(float, r[3:])) - 1) < 1e-9 and 0 <= int(r[1]) <= 9 for r in rows[1:])
' table20.csv
    run 0 "export csv --table KEY (the last one)" "$RUNLOG" export csv $T --table predictions_table
    has "the last table is at step 104" out '^predictions_table_104_0_image\.png,'
    run 1 "export csv --table of a missing key" "$RUNLOG" export csv $T --table nope
    run 0 "export json of a run with tables" "$RUNLOG" export json $T -o tr.json
    pyok "tables in JSON: rows, image cells with the extracted file names" '
import json, sys
d = json.load(open(sys.argv[1]))
t = d["tables"]
assert [x["step"] for x in t] == [20, 41, 62, 83, 104] and all(x["nrows"] == 100 for x in t)
c = t[0]["rows"][0][0]
assert c["_type"] == "image" and c["file"] == "predictions_table_20_0_image.png" and len(c["digest"]) == 32
assert [x["version"] for x in d["artifacts"]] == [0, 1, 2, 3, 4] and "latest" in d["artifacts"][4]["aliases"]
assert d["summary"]["test_accuracy"] > 0 and d["alerts"][0]["title"] == "Low accuracy"
' tr.json
    "$PY" -c '
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR"
w, h, depth, ct = struct.unpack(">IIBB", d[16:26])
assert (w, h, depth, ct) == (28, 28, 8, 0), (w, h, depth, ct)
' timgs/predictions_table_20_0_image.png && pass "a raw table image becomes a 28x28 grey PNG" || fail "bad PNG from raw pixels"
fi

# A crafted file: the entry path "abcdefgh/evil" of a logged artifact is
# rewritten, with the frame's checksums rebuilt (spec/FORMAT.md §3-§4), as
# each escaping path of the same length. extract must refuse every one and
# write nothing, inside DIR or outside.
mkdir -p evilsrc/abcdefgh
echo "evil content" >evilsrc/abcdefgh/evil
"$RUNLOG" artifact crafted.runlog --name bad evilsrc >/dev/null
cat >craft.py <<'PYEOF'
import struct, sys, xxhash, zstandard
# Rewrites `old` as `new` (same length) in block 0 of the data frame that
# holds it; block 0 is stored again raw, the payload size and both checksums
# rebuilt. The file is cut after that frame: the index and trailer after it
# would point at moved offsets, and a reader scans a file without them.
src, dst, old, new = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
assert len(old) == len(new)
d = open(src, "rb").read()
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: return v, i
def enc(v):
    out = bytearray()
    while True:
        c = v & 0x7f; v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v: return bytes(out)
# Sealed files (header incompat bit 1, §4.1): each directory entry ends with
# its block's checksum, and the payload checksum covers the directory only.
sealed = struct.unpack_from("<Q", d, 24)[0] & 2
def entry(codec, raw, stored, block):
    e = bytes([codec]) + enc(raw) + enc(stored)
    return e + struct.pack("<Q", xxhash.xxh3_64_intdigest(block)) if sealed else e
off = 72
while off + 48 <= len(d):
    kind, size = d[off + 4], struct.unpack_from("<I", d, off + 24)[0]
    payload = d[off + 48:off + 48 + size]
    if kind == 1:
        n, i = varint(payload, 0)
        dirs = []
        for _ in range(n):
            codec = payload[i]; raw, i = varint(payload, i + 1); stored, i = varint(payload, i)
            i += 8 if sealed else 0
            dirs.append((codec, raw, stored))
        blocks = []
        for codec, raw, stored in dirs:
            blocks.append(payload[i:i + stored]); i += stored
        b0 = blocks[0]
        if dirs[0][0] == 1:
            b0 = zstandard.ZstdDecompressor().decompress(b0, max_output_size=dirs[0][1])
        if old in b0:
            b0 = b0.replace(old, new)
            out = bytearray(enc(n)) + entry(0, len(b0), len(b0), b0)
            for (codec, raw, stored), block in zip(dirs[1:], blocks[1:]):
                out += entry(codec, raw, stored, block)
            dir_len = len(out)
            out += b0 + b"".join(blocks[1:])
            hdr = bytearray(d[off:off + 48])
            struct.pack_into("<I", hdr, 24, len(out))
            checked = bytes(out[:dir_len]) if sealed else bytes(out)
            struct.pack_into("<Q", hdr, 32, xxhash.xxh3_64_intdigest(checked))
            struct.pack_into("<Q", hdr, 40, xxhash.xxh3_64_intdigest(bytes(hdr[:40])))
            open(dst, "wb").write(d[:off] + bytes(hdr) + bytes(out))
            sys.exit(0)
    off += 48 + size
sys.exit("no frame holds %r" % old)
PYEOF
mkdir -p jail
for bad in "../../../evil" "/tmpxxxx/evil" "abc//efg/evil" "abc/./fg/evil" "abcde/../evil" "abcdefgh/evi/"; do
    if ! "$PY" craft.py crafted.runlog evil.runlog "abcdefgh/evil" "$bad"; then
        fail "crafting a file with the entry path $bad"
        continue
    fi
    rm -rf jail/out
    run 1 "extract refuses the entry path $bad" "$RUNLOG" extract evil.runlog --artifact bad -o jail/out
    has "the refusal names the path" err "artifact entry 0 \(\"$(printf '%s' "$bad" | sed 's/[.]/[.]/g')\"\)"
    if [ -z "$(ls -A jail)" ] && [ ! -e evil ] &&
        [ ! -e /tmpxxxx ] && [ ! -e "$WORK/../evil" ]; then
        pass "nothing written for $bad"
    else
        fail "something was written for $bad"; find jail | sed 's/^/#   /'
    fi
done
# A link planted in DIR is not followed.
mkdir -p linked outside
ln -s ../outside linked/abcdefgh
run 1 "extract does not follow a link in DIR" "$RUNLOG" extract crafted.runlog --artifact bad -o linked
if [ -z "$(ls -A outside)" ]; then pass "nothing written through the link"; else fail "written through a link"; fi
run 0 "the uncrafted file extracts" "$RUNLOG" extract crafted.runlog --artifact bad -o good
if cmp -s good/abcdefgh/evil evilsrc/abcdefgh/evil; then pass "its file is identical"; else fail "its file differs"; fi

# ------------------------------------------------------- hostile environment
# (docs/RELIABILITY.md "Hostile environment".) Links planted at the names
# that temporary files used to have (PATH.new-PID, OUT.tmp-PID, ...): a
# shell's PID is known before it `exec`s runlog, so the test plants them
# exactly there. Temporary names are random now and created exclusively, so
# nothing is written through a link and no planted name blocks a command.
mkdir hostile
printf 'precious\n' >hostile/victim
cp hostile/victim victim.orig
intact() { # intact DESC: hostile/victim still holds its bytes
    if cmp -s hostile/victim victim.orig && [ ! -L hostile/victim ]; then pass "$1"; else fail "$1"; fi
}
regular() { # regular DESC FILE: FILE is a regular file, not a link
    if [ -f "$2" ] && [ ! -L "$2" ]; then pass "$1"; else fail "$1"; ls -l "$2" | sed 's/^/#   /'; fi
}
# shellcheck disable=SC2016
run 0 "log beside a link planted at PATH.new-PID" \
    sh -c 'ln -s victim "hostile/new.runlog.new-$$"; exec "$0" log hostile/new.runlog x=1' "$RUNLOG"
intact "log did not write through the planted link"
regular "the new run-log is a file, not the planted link" hostile/new.runlog
run 0 "the new run-log verifies" "$RUNLOG" verify hostile/new.runlog
# shellcheck disable=SC2016
run 0 "export hdf5 beside a link planted at OUT.tmp-PID" \
    sh -c 'ln -s victim "hostile/out.h5.tmp-$$"; exec "$0" export hdf5 "$1" -o hostile/out.h5' \
    "$RUNLOG" fixture.runlog
intact "export hdf5 did not write through the planted link"
regular "the HDF5 file is a file, not the planted link" hostile/out.h5
mkdir hostile/imgs
# shellcheck disable=SC2016
run 0 "extract --images beside a link planted at NAME.tmp-PID" \
    sh -c 'ln -s ../victim "hostile/imgs/sample_0_0.png.tmp-$$"; exec "$0" extract "$1" --images -o hostile/imgs' \
    "$RUNLOG" $M
intact "extract did not write through the planted link"
if cmp -s hostile/imgs/sample_0_0.png a.png; then pass "the image is extracted whole"; else fail "the image differs"; fi
MID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"]["id"])' <("$RUNLOG" info --json $M))
mkdir hostile/wb
# shellcheck disable=SC2016
run 0 "export wandb beside a link planted at DIR/.tmp-ID-PID" \
    sh -c 'ln -s .. "hostile/wb/.tmp-$2-$$"; exec "$0" export wandb "$1" -o hostile/wb' "$RUNLOG" $M "$MID"
if [ -L "hostile/wb/.tmp-$MID-"* ] && [ -e hostile/victim ]; then pass "export wandb left the planted link alone"; else fail "export wandb removed the planted link"; fi
if [ "$(stat -c %a hostile/wb/offline-run-*)" = "$(printf '%o' $((0777 & ~$(umask))))" ]; then
    pass "the W&B run folder has the mode a plain mkdir gives"
else
    fail "the W&B run folder's mode is $(stat -c %a hostile/wb/offline-run-*)"
fi

# -o naming the input (or a hard link or a symbolic link to it) is refused,
# for every command that writes, and the input is left as it was.
cp fixture.runlog hostile/in.runlog
cp fixture.runlog in.orig
ln hostile/in.runlog hostile/hard.runlog
ln -s in.runlog hostile/soft.runlog
for out in hostile/in.runlog hostile/hard.runlog hostile/soft.runlog; do
    for cmd in "export json" "export csv" "export hdf5" "export wandb" "extract --images" \
        "extract --artifact ckpt"; do
        # shellcheck disable=SC2086
        run 1 "$cmd -o $out (the input) is refused" "$RUNLOG" $cmd hostile/in.runlog -o "$out"
        has "the refusal names both paths" err "^runlog: $out: is the input hostile/in\.runlog "
    done
done
if cmp -s hostile/in.runlog in.orig && [ -f hostile/in.runlog ] && [ ! -L hostile/in.runlog ]; then
    pass "the input is untouched"
else
    fail "the input was changed"
fi
for cmd in "dump" "history"; do
    key=; [ "$cmd" = history ] && key=acc
    # shellcheck disable=SC2086
    "$RUNLOG" $cmd hostile/in.runlog $key >>hostile/hard.runlog 2>err
    rc=$?
    if [ "$rc" -eq 1 ] && cmp -s hostile/in.runlog in.orig; then
        pass "$cmd >> the input is refused, the input untouched"
    else
        fail "$cmd >> the input (exit status $rc)"; show err
    fi
done

# A FIFO as FILE is refused at once (a reader would wait for a writer
# forever; `timeout` only keeps a regression from hanging the suite), and a
# device as the log target is refused rather than "started afresh".
mkfifo hostile/fifo
for cmd in "info" "verify" "dump" "tail" "history" "export json" "export hdf5" "repair" "log" "finish"; do
    args="hostile/fifo"
    case $cmd in
    history) args="hostile/fifo acc" ;;
    "export hdf5") args="hostile/fifo -o hostile/f.h5" ;;
    log) args="hostile/fifo x=1" ;;
    esac
    # shellcheck disable=SC2086
    timeout 5 "$RUNLOG" $cmd $args >out 2>err </dev/null
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q 'hostile/fifo: not a regular file' err; then
        pass "$cmd refuses a FIFO: not a regular file"
    else
        fail "$cmd on a FIFO (exit status $rc)"; show err
    fi
done
timeout 5 "$RUNLOG" log hostile/l.runlog --image k=hostile/fifo >out 2>err </dev/null
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'hostile/fifo: not a readable file' err; then
    pass "log --image refuses a FIFO"
else
    fail "log --image on a FIFO (exit status $rc)"; show err
fi
ln -s /dev/null hostile/null.runlog
for target in /dev/null hostile/null.runlog; do
    run 1 "log $target is refused" "$RUNLOG" log "$target" x=1
    has "the refusal says why" err "$target: not a regular file"
done

# Exit codes outside int are usage errors, not "exit code 0".
for code in 4294967296 -2147483649 99999999999999999999; do
    run 2 "finish --exit-code $code is refused" "$RUNLOG" finish hostile/new.runlog --exit-code "$code"
done
run 0 "finish --exit-code 2147483647" "$RUNLOG" finish hostile/new.runlog --exit-code 2147483647
run 0 "info of the finished run" "$RUNLOG" info hostile/new.runlog
has "the largest int exit code is kept" out '^exit code +2147483647$'
has "and the run failed" out '^state +failed$'

for args in "extract" "extract x" "extract x --images" "extract x --images --artifact a -o d" \
    "extract x --artifact a -o -" "artifact" "artifact x --name n" "artifact x art" \
    "log x --image nokey" "export json x --table t" "export csv x --long --table t" \
    "export json --with-run x" "export csv --with-run --long x" "export csv a b"; do
    # shellcheck disable=SC2086
    run 2 "usage error: runlog $args" "$RUNLOG" $args
done

# ---------------------------------------------------------------- out of memory
# A 3 KB file whose one hostile frame decodes to 84 MB (a 64 MiB block of
# zeros), read under a 300 MB address-space limit: the commands fail with a
# message naming the file and the frame's offset (byte 307). Not in sanitizer
# builds: ASan and TSan reserve terabytes of address space up front.
if ldd "$RUNLOG" 2>/dev/null | grep -Eq 'lib(a|t)san'; then
    n=$((n + 1)); echo "ok $n # SKIP out-of-memory messages (sanitizer build)"
else
    "$PY" - "$(dirname "$EXPECTED")/../data/hostile/make_hostile.py" <<'PYEOF'
import importlib.util, sys
path = sys.argv[1]
sys.argv = [path, "."]
spec = importlib.util.spec_from_file_location("make_hostile", path)
mh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mh)
n = 1 << 23  # 8 Mi rows of one float column
body = (mh.varint(n) + mh.varint(5) + b"\x01" * (n - 1) + mh.varint(mh.zigzag(mh.T0)) + b"\x00" * (n - 1)
        + mh.varint(1) + b"\x00\x03\x00\x01")
p = mh.payload([mh.block0([b"loss"], [mh.record(mh.HISTORY, body)]), b"\0" * (8 * n)], compress=True)
f0, _, f2 = mh.good_frames()
open("bigframe.runlog", "wb").write(mh.file_header() + f0 + mh.frame(mh.DATA, 1, p, 1) + p + f2)
PYEOF
    for cmd in "dump bigframe.runlog" "history bigframe.runlog loss" "verify bigframe.runlog" \
        "info bigframe.runlog" "export json bigframe.runlog -o big.json"; do
        # shellcheck disable=SC2086
        (ulimit -v 300000; "$RUNLOG" $cmd >out 2>err)
        rc=$?
        if [ "$rc" -eq 1 ] && grep -q 'bigframe.runlog: byte 307: out of memory' err; then
            pass "out of memory in '$cmd' names the file and the frame"
        else
            fail "out of memory in '$cmd' (exit status $rc)"; show err
        fi
    done
fi

# Extract racing a folder swap (issue 17 item 3): while extract writes
# DIR/sub/f*.txt, another process keeps swapping DIR/sub for a link to a
# folder outside, in a tight loop of rename/symlink calls. Every write goes
# through descriptors opened with O_NOFOLLOW from DIR's own, so nothing may
# land outside, whatever the timing (an extract that meets the link fails:
# fine). With the command of 45a2b3c, which checked folders and then wrote
# by path, the same loop put 5 files outside in 60 runs.
mkdir -p race/src/sub race/outside
for i in $(seq 1 40); do printf 'file %s\n' "$i" >"race/src/sub/f$i.txt"; done
"$RUNLOG" artifact race/run.runlog --name racy race/src >/dev/null 2>&1
"$PY" - <<'PYEOF' &
import os, time
end = time.time() + 60
while time.time() < end and not os.path.exists("race/stop"):
    try:
        os.rename("race/out/sub", "race/out/sub.real")
        os.symlink("../outside", "race/out/sub")
        os.unlink("race/out/sub")
        os.rename("race/out/sub.real", "race/out/sub")
    except OSError:
        pass
PYEOF
swapper=$!
for i in $(seq 1 60); do
    rm -rf race/out 2>/dev/null
    timeout 20 "$RUNLOG" extract race/run.runlog --artifact racy -o race/out >/dev/null 2>&1
done
touch race/stop
wait "$swapper"
if [ -z "$(ls -A race/outside)" ]; then
    pass "extract racing a folder swapped for a link: nothing written outside DIR (60 runs)"
else
    fail "extract wrote outside DIR through a swapped folder: $(ls race/outside | head -3)"
fi

# ------------------------------------- odd media maps (spec/EXPORTS.md §9.3)
HOSTILE=$(dirname "$EXPECTED")/../data/hostile
run 0 "export json: an image map without a digest" "$RUNLOG" export json "$HOSTILE/media_image_no_digest.runlog"
pyok "its images entry has digest null" 'import json; i = json.load(open("out"))["images"]; assert len(i) == 1 and i[0]["digest"] is None, i'
run 0 "export json: an image map with a 15-byte digest" "$RUNLOG" export json "$HOSTILE/media_image_digest_15.runlog"
pyok "its images entry has digest null, the cell the bytes in base64" 'import json; d = json.load(open("out")); assert d["images"][0]["digest"] is None, d["images"]; c = d["history"][-1]["img"]["digest"]; import base64; assert len(base64.b64decode(c)) == 15, c'
run 1 "export json: an artifact record with the path ../evil.txt" "$RUNLOG" export json "$HOSTILE/artifact_path_dotdot.runlog"
has "it is reported as a malformed record, skipped" err 'byte [0-9]+: .*evil.*; record skipped'
pyok "and not listed" 'import json; a = json.load(open("out"))["artifacts"]; assert a == [], a'
run 0 "export json: a correct artifact record" "$RUNLOG" export json "$HOSTILE/artifact_ok.runlog"
pyok "is listed" 'import json; a = json.load(open("out"))["artifacts"]; assert len(a) == 1, a'

# ------ history of one key reads that key (spec/EXPORTS.md §4.4): the frame
# of rows 5..9 holds loss intact beside key note's malformed string column
V="$HOSTILE/value_block_other_key.runlog"
run 0 "history of a key beside a malformed value block" "$RUNLOG" history --strict "$V" loss
pyok "gives all 10 rows of the key, nothing on stderr" 'import sys; l = open("out").read().splitlines(); assert len(l) == 11 and l[-1] == "loss,9,1700000000.000009000,0.1", l; assert open("err").read() == ""' 
run 1 "history of the key whose block is malformed" "$RUNLOG" history "$V" note
has "reports the damaged frame" err 'value_block_other_key.runlog: byte 307: frame, [0-9]+ bytes skipped'
run 1 "history of both keys reads the file as every export does" "$RUNLOG" history "$V" loss note
pyok "the frame is skipped whole: 5 rows of loss" 'l = open("out").read().splitlines(); assert len(l) == 6, l'
run 1 "history --strict of both keys" "$RUNLOG" history --strict "$V" loss note
has "fails at the frame" err 'value_block_other_key.runlog: byte 307: '
run 1 "verify decodes the malformed block" "$RUNLOG" verify "$V"
has "and reports it" out 'value_block_other_key.runlog: byte 307: frame, 151 bytes \(count or length over its limit\)'
run 0 "verify --no-values does not" "$RUNLOG" verify --no-values "$V"
has "and says OK" out 'value_block_other_key.runlog: OK, 3 frames, 12 records'
run 1 "verify --no-values still sees a zstd block whose size lies" "$RUNLOG" verify --no-values "$HOSTILE/directory_raw_len_lies.runlog"
has "from its framing" out 'byte 307: frame, [0-9]+ bytes \(zstd content size differs'

# ------------- text rules of spec/EXPORTS.md §1.1 and §2.4, their examples
"$RUNLOG" run -o console.runlog --interval 0 --no-metadata -- \
    printf 'a\342\202\nb\360\237\230c\377' >/dev/null
run 0 "export json of a console chunk with truncated sequences" "$RUNLOG" export json console.runlog
pyok "one U+FFFD per byte, not per maximal subpart (EXPORTS.md §2.4)" 'import json; c = json.load(open("out"))["console"]; t = "".join(x["text"] for x in c); assert t == "a\ufffd\ufffd\nb\ufffd\ufffd\ufffdc\ufffd", ascii(t)'
"$RUNLOG" log escapes.runlog "s=$(printf 'a\001\177/\342\200\250\t\b\f')" >/dev/null
run 0 "export json of a string with control characters" "$RUNLOG" export json escapes.runlog
has "escaped exactly as EXPORTS.md §1.1 says" out "\"s\":\"a\\\\u0001\\\\u007f/$(printf '\342\200\250')\\\\t\\\\u0008\\\\u000c\""

echo "1..$n"
[ "$failed" -eq 0 ]
