#!/usr/bin/python3
"""Format 1.2, sealed payloads (spec/FORMAT.md §4.1), checked from the spec's
side: spec_writer.py and spec_reader.py are written from the spec alone, the
library is read through the `runlog` command.

 1. the example of §4.1, byte for byte;
 2. a sealed file written by spec_writer.py: `runlog verify` finds it intact,
    `runlog export json` and `runlog history` (one key) give the values
    written, and `runlog dump` agrees
    with spec_reader.py record for record (compare.py); the same run written
    as 1.1 (no flag) reads the same;
 3. that file with one byte of a value block changed: the frame is damaged
    (§4.1, §8.3) — verify names it at its offset, a strict export fails naming
    it, a tolerant export skips it whole;
 4. the hostile files of format 1.2 (tests/data/hostile/, sealed_* and
    *_flag*): verify reports damage at the very offsets where spec_reader.py
    finds it, and a strict export fails naming the first of them.

usage: check_sealed.py RUNLOG HOSTILE_DIR
"""
import csv
import decimal
import io
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import spec_reader  # noqa: E402
import spec_writer as w  # noqa: E402

FAILED = []


def check(cond, what):
    if not cond:
        FAILED.append(what)
        print("FAIL: " + what, file=sys.stderr)


def report(before, what):
    """Prints what a section checked, or that it failed (details above)."""
    print(("ok: " if len(FAILED) == before else "FAILED: ") + what)


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def spec_example():
    before = len(FAILED)
    p, d = w.sealed_payload([(w.RAW, b"ABC")])
    want = bytes.fromhex("01 00 03 03 0E 87 5C 40 0F A4 4D 24 41 42 43")
    check(p == want, "§4.1 example: payload %s, spec says %s" % (p.hex(" "), want.hex(" ")))
    check(len(p) == 15 and d == want[:12], "§4.1 example: the directory is the first 12 bytes")
    check(w.xxh3(b"ABC") == 0x244DA40F405C870E, "§4.1 example: XXH3-64 of 41 42 43")
    check(w.xxh3(d) == 0x295288081C6DD27C, "§4.1 example: payload_checksum 0x295288081C6DD27C")
    check(spec_reader.sealed_check(want, 0x295288081C6DD27C) is None, "spec_reader: example checks")
    check(spec_reader.sealed_check(want[:-1] + b"D", 0x295288081C6DD27C) == "block 0 checksum mismatch",
          "spec_reader: example with its block changed is damaged")
    check(spec_reader.Payload(want, sealed=True).block(0) == b"ABC", "spec_reader: example's block")
    report(before, "§4.1 example: 15 bytes, payload_checksum 0x295288081C6DD27C")


def export_json(runlog, path, strict=False):
    r = run(runlog, "export", "json", path, *(["--strict"] if strict else []))
    # A tolerant export that skipped damage writes the export and exits 1.
    ok = r.returncode == 0 or (not strict and r.returncode == 1 and r.stdout)
    return r, json.loads(r.stdout, parse_float=decimal.Decimal) if ok else None


def num(v):
    """A JSON number or the strings of spec/EXPORTS.md for what JSON lacks."""
    return v if isinstance(v, str) else float(v)


def cell(v):
    """A value as `runlog history` prints it (CSV, spec/EXPORTS.md)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def same_run(runlog, path, label):
    before = len(FAILED)
    r = run(runlog, "verify", path)
    check(r.returncode == 0 and "OK" in r.stdout, "%s: runlog verify: %s%s" % (label, r.stdout, r.stderr))
    r, doc = export_json(runlog, path, strict=True)
    check(doc is not None, "%s: runlog export json --strict: exit %d %s" % (label, r.returncode, r.stderr))
    if doc is None:
        return
    run_ = doc["run"]
    for k in ("id", "project", "name", "group", "job_type", "notes", "tags"):
        check(run_[k] == w.RUN_START_BODY[k], "%s: run.%s = %r" % (label, k, run_[k]))
    check(run_["state"] == "finished" and run_["exit_code"] == 0, "%s: state %r" % (label, run_["state"]))
    check(run_["rows"] == w.NROWS and run_["last_step"] == w.NROWS - 1, "%s: rows" % label)
    cfg = doc["config"]
    check(float(cfg["lr"]) == w.CONFIG_SET["lr"] and cfg["layers"] == [64, 32]
          and cfg["opt"]["name"] == "sgd" and str(cfg["opt"]["momentum"]) == "-0.0",
          "%s: config %r" % (label, cfg))
    rows = w.sample_rows()
    hist = doc["history"]
    check(len(hist) == len(rows), "%s: %d history rows, %d written" % (label, len(hist), len(rows)))
    for (step, t, fields), h in zip(rows, hist):
        check(h["_step"] == step, "%s: step %r != %d" % (label, h["_step"], step))
        check(h["_timestamp"] == decimal.Decimal(t) / 10**9, "%s: step %d time %s" % (label, step, h["_timestamp"]))
        got = {k: v for k, v in h.items() if not k.startswith("_")}
        check(list(got) == list(fields), "%s: step %d keys %s, written %s" % (label, step, list(got), list(fields)))
        for k, v in fields.items():
            g = got.get(k)
            ok = (num(g) == v) if isinstance(v, float) else (g == v and type(g) is type(v))
            check(ok, "%s: step %d %s = %r, written %r" % (label, step, k, g, v))
    summ = doc["summary"]
    check(list(summ) == ["loss", "epoch", "ok", "name", "note", "best"]
          and float(summ["loss"]) == 1.0 / w.NROWS and summ["name"] == "last \u00e9"
          and float(summ["best"]) == 0.75, "%s: summary %r" % (label, summ))
    # One key at a time (`runlog history`): in a sealed file the library reads
    # only that key's blocks (§4.1 "Reading part of a sealed frame").
    for key in w.KEYS:
        r = run(runlog, "history", path, key, "--strict")
        got = list(csv.reader(io.StringIO(r.stdout)))[1:]
        want = [(step, f[key]) for step, _, f in rows if key in f]
        check(r.returncode == 0 and [(int(g[1]), g[3]) for g in got] == [(st, cell(v)) for st, v in want],
              "%s: runlog history %s: %s %s" % (label, key, got, r.stderr))
    r = run(sys.executable, os.path.join(HERE, "compare.py"), runlog, path)
    check(r.returncode == 0, "%s: compare.py: %s%s" % (label, r.stdout, r.stderr))
    report(before, "%s: verify, export json, history and dump give what spec_writer.py wrote" % label)


def spec_damage(path):
    """The offsets of the damage spec_reader.py reports in tolerant mode (torn tails aside)."""
    r = run(sys.executable, os.path.join(HERE, "spec_reader.py"), "--records", "--tolerant", path)
    return [int(m) for m in re.findall(r"^spec_reader: byte (\d+): ", r.stderr, re.M)], r


def verify_damage(runlog, path):
    r = run(runlog, "verify", path)
    kinds = re.findall(r": byte (\d+): (frame|garbage|torn tail), ", r.stdout)
    return [int(o) for o, k in kinds if k != "torn tail"], r


def damaged_frame(runlog, tmp):
    before = len(FAILED)
    data = bytearray(w.sample())
    f0 = 72
    payload = bytes(data[f0 + 48:f0 + 48 + int.from_bytes(data[f0 + 24:f0 + 28], "little")])
    entries, dlen = spec_reader.sealed_directory(payload)
    # The first byte of block 1 (the zstd block of `loss`): block 0 is block 0.
    at = f0 + 48 + dlen + entries[0][2]
    data[at] ^= 0x01
    path = os.path.join(tmp, "sealed-damaged.runlog")
    with open(path, "wb") as f:
        f.write(data)
    offs, r = verify_damage(runlog, path)
    check(r.returncode == 1 and offs == [f0] and "byte %d: frame, " % f0 in r.stdout,
          "damaged block: runlog verify should report the frame at byte %d: %s" % (f0, r.stdout))
    r, _ = export_json(runlog, path, strict=True)
    check(r.returncode == 1 and "byte %d" % f0 in r.stderr,
          "damaged block: strict export should fail naming byte %d: %s" % (f0, r.stderr))
    r, doc = export_json(runlog, path)
    check(doc is not None and r.returncode == 1 and doc["history"] == [] and doc["config"] == {}
          and doc["run"]["state"] == "finished" and "byte %d" % f0 in r.stderr,
          "damaged block: tolerant export should skip the frame whole: %s" % r.stderr)
    # A one-key read that meets the failing block returns nothing of its frame (§4.1).
    r = run(runlog, "history", path, "loss")
    check(r.stdout.strip() == "key,step,timestamp,value" and "byte %d" % f0 in r.stderr,
          "damaged block: runlog history loss should return no row: %s %s" % (r.stdout, r.stderr))
    r = run(runlog, "history", path, "loss", "--strict")
    check(r.returncode == 1 and "byte %d" % f0 in r.stderr,
          "damaged block: strict runlog history loss should fail naming byte %d: %s" % (f0, r.stderr))
    # Another key, whose own block checks: the command's damage line says the
    # frame was skipped, and so it is (the library alone may return its rows,
    # §4.1; the command reads a damaged file in one scan).
    r = run(runlog, "history", path, "name")
    check(r.stdout.strip() == "key,step,timestamp,value" and
          "byte %d: frame, " % f0 in r.stderr and "skipped" in r.stderr,
          "damaged block: runlog history name should skip the damaged frame as it says: %s %s"
          % (r.stdout, r.stderr))
    sd, _ = spec_damage(path)
    check(sd == [f0], "damaged block: spec_reader reports %s" % sd)
    report(before, "a block changed: frame at byte %d damaged (verify, strict and tolerant export, one-key history)" % f0)


def hostile(runlog, hdir):
    before = len(FAILED)
    names = []
    with open(os.path.join(hdir, "MANIFEST.tsv")) as f:
        for line in f:
            name = line.split("\t")[0]
            if name.startswith(("sealed_", "unsealed_")):
                names.append(name)
    check(names, "no sealed hostile file in %s/MANIFEST.tsv" % hdir)
    for name in names:
        path = os.path.join(hdir, name)
        sd, sr = spec_damage(path)
        vd, vr = verify_damage(runlog, path)
        check(sd == vd, "%s: damage at %s in verify, at %s in spec_reader (%s)"
              % (name, vd, sd, sr.stderr.strip()))
        r, _ = export_json(runlog, path, strict=True)
        if sd:
            check(r.returncode == 1 and "byte %d" % sd[0] in r.stderr,
                  "%s: strict export should fail naming byte %d: %s" % (name, sd[0], r.stderr))
        else:
            check(r.returncode == 0, "%s: strict export failed: %s" % (name, r.stderr))
    report(before, "hostile 1.2 files: %d, verify and spec_reader agree on every damage offset" % len(names))


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    runlog, hdir = sys.argv[1:]
    spec_example()
    with tempfile.TemporaryDirectory() as tmp:
        for sealed in (True, False):
            path = os.path.join(tmp, "spec-writer-%s.runlog" % ("1.2" if sealed else "1.1"))
            with open(path, "wb") as f:
                f.write(w.sample(sealed=sealed))
            same_run(runlog, path, os.path.basename(path))
        damaged_frame(runlog, tmp)
    hostile(runlog, hdir)
    if FAILED:
        raise SystemExit("check_sealed.py: %d checks failed" % len(FAILED))


if __name__ == "__main__":
    main()
