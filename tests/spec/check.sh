#!/bin/sh
# An independent reader written from spec/FORMAT.md alone (spec_reader.py)
# must read what the library writes: a deterministic fixture with every
# record and value type, the demo's runs, and a file grown by `runlog log`;
# and a file written by spec_writer.py (from the spec alone) must read back.
# usage: check.sh RUNLOG CLI_FIXTURE DEMO
set -eu
runlog=$1 fixture=$2 demo=$3
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
if ! "$py" -c 'import zstandard, xxhash' 2>/dev/null; then
    echo "check.sh: $py lacks zstandard/xxhash (Debian python3-zstandard python3-xxhash)" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$fixture" "$tmp/fixture.runlog"
"$demo" "$tmp/demo" >/dev/null
"$runlog" log "$tmp/log.runlog" --project p --name n a=1 b=2.5 s=text
"$runlog" log "$tmp/log.runlog" --no-commit c=true
"$runlog" log "$tmp/log.runlog" --step 7 a=nan
"$runlog" finish "$tmp/log.runlog" --exit-code 3
"$py" "$here/compare.py" "$runlog" "$tmp/fixture.runlog" "$tmp"/demo/*.runlog "$tmp/log.runlog"
# Format 1.2 (sealed payloads, FORMAT.md §4.1) from the spec's side: a file
# written by spec_writer.py, the §4.1 example, and the 1.2 hostile files.
"$py" "$here/check_sealed.py" "$runlog" "$here/../data/hostile"
# Files of earlier format versions (tests/data/golden/VERSION/, §13): both
# readers agree on them, and the library still dumps exactly what it dumped
# when they were written (FILE.dump.jsonl, checked then against the spec reader).
golden=$here/../data/golden
"$py" "$here/compare.py" "$runlog" "$golden"/*/*.runlog
for f in "$golden"/*/*.runlog; do
    "$runlog" dump "$f" >"$tmp/golden.jsonl"
    if ! cmp -s "$tmp/golden.jsonl" "${f%.runlog}.dump.jsonl"; then
        echo "check.sh: runlog dump $f differs from ${f%.runlog}.dump.jsonl" >&2
        diff "${f%.runlog}.dump.jsonl" "$tmp/golden.jsonl" | head -20 >&2
        exit 1
    fi
done
echo "golden files: $(ls "$golden"/*/*.runlog | wc -l) read as when they were written"
