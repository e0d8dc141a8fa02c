#!/bin/bash
# CLI tests for `runlog` (TAP output).
#
# usage: run-cli-tests.sh RUNLOG CLI_FIXTURE SRCDIR
#   RUNLOG       the runlog executable
#   CLI_FIXTURE  the program that writes the fixed run-log (fixture.c)
#   SRCDIR       tests/cli, which holds expected/
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
assert list(d) == ["run", "config", "summary", "history", "alerts", "console"], list(d)
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
timeout 60 "$RUNLOG" tail -f live.runlog >follow.out 2>follow.err &
tail_pid=$!
"$RUNLOG" log live.runlog a=2
"$RUNLOG" log live.runlog a=3
"$RUNLOG" finish live.runlog
if wait $tail_pid; then pass "tail -f exits 0 after the finish record"; else fail "tail -f failed"; show follow.err; fi
same follow.txt follow.out

echo "1..$n"
[ "$failed" -eq 0 ]
