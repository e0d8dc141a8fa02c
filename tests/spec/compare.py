#!/usr/bin/env python3
"""Checks that tests/spec/spec_reader.py, a reader written from spec/FORMAT.md
alone, and the library (through `runlog dump`) read the same records from
each file: type, time, step, fields and bodies, value for value (floats
bit-exact, NaN equal to NaN, -0.0 distinct from 0.0).

usage: compare.py RUNLOG_COMMAND FILE...
"""
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def same(a, b, path):
    if isinstance(a, float) and isinstance(b, float):
        ok = (a == b and math.copysign(1, a) == math.copysign(1, b)) or (math.isnan(a) and math.isnan(b))
    elif type(a) != type(b):
        ok = False
    elif isinstance(a, dict):
        if list(a) != list(b):
            raise SystemExit("%s: keys differ %s vs %s" % (path, list(a), list(b)))
        return all(same(a[k], b[k], path + "." + k) for k in a)
    elif isinstance(a, list):
        if len(a) != len(b):
            raise SystemExit("%s: %d items vs %d" % (path, len(a), len(b)))
        return all(same(x, y, path) for x, y in zip(a, b))
    else:
        ok = a == b
    if not ok:
        raise SystemExit("%s: %r != %r" % (path, a, b))
    return True


def records(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()], r.returncode, r.stderr


def main():
    runlog, files = sys.argv[1], sys.argv[2:]
    if not files:
        raise SystemExit(__doc__)
    for f in files:
        mine, rc1, e1 = records([sys.executable, os.path.join(HERE, "spec_reader.py"), "--records", "--tolerant", f])
        theirs, rc2, e2 = records([runlog, "dump", f])
        if rc1 != 0 or rc2 != 0:
            raise SystemExit("%s: spec reader exit %d (%s), runlog dump exit %d (%s)" % (f, rc1, e1, rc2, e2))
        if len(mine) != len(theirs):
            raise SystemExit("%s: %d records from the spec reader, %d from runlog dump" % (f, len(mine), len(theirs)))
        values = 0
        for i, (a, b) in enumerate(zip(mine, theirs)):
            p = "%s record %d" % (f, i)
            same(a["type"], b["type"], p + ".type")
            # A record without a time (FORMAT.md §5.2): null here, 0 in the library's API.
            same(0 if a["time_ns"] is None else a["time_ns"], b["time_ns"], p + ".time_ns")
            if a["type"] == "history":
                same(a["step"], b["step"], p + ".step")
                same(a["fields"], b["fields"], p + ".fields")
                values += len(a["fields"])
            elif a["type"] != "system":
                same(a["body"], b["body"], p + ".body")
        print("%s: %d records, %d history values agree" % (f, len(mine), values))


if __name__ == "__main__":
    main()
