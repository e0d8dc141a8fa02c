#!/usr/bin/python3
"""check_wandb.py — an independent reader of `runlog export wandb` output.

The .wandb framing is read here from W&B's description (LevelDB log format,
":W&B" header, 32 KiB blocks, CRC-32/IEEE of type byte + data via Python's
zlib.crc32), and each record is decoded by Debian's python3-protobuf from
W&B's whole published schema (tests/wandb/schema/, written by gen_schema.py
from wandb/proto/wandb_internal.proto, wandb_base.proto and
wandb_telemetry.proto) compiled by `protoc --python_out` at test time
(module dir given as PBDIR): every field W&B has is decoded, so a field the
exporter's subset lacks or numbers wrongly shows up here. Nothing of runlog's
C code is used to read.

Every record is compared with `runlog export json` of the same run-log(s),
images and artifact files with `runlog extract`, and every MD5/SHA-256 with
the bytes in the exported directory.

usage: check_wandb.py RUNLOG PBDIR RUNSDIR OUTDIR
"""
import base64
import datetime
import glob
import hashlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import yaml
from google.protobuf import json_format

RUNLOG, PBDIR, RUNS, OUT = sys.argv[1:5]
sys.path.insert(0, PBDIR)
import wandb_internal_pb2 as pb  # noqa: E402

BLOCK = 32768
FAILS = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, file=sys.stderr)


# ---- the container ----

def read_log(path):
    """Returns (records as bytes, chunk type counts). Raises on any framing error."""
    data = open(path, "rb").read()
    if data[:7] != b":W&B" + struct.pack("<H", 0xBEE1) + b"\x00":
        raise ValueError("%s: bad header %r" % (path, data[:7]))
    off, records, pending, counts = 7, [], None, {1: 0, 2: 0, 3: 0, 4: 0, "pad": 0}
    while off < len(data):
        left = BLOCK - off % BLOCK
        if left < 7:
            if data[off:off + left] != b"\x00" * left:
                raise ValueError("%s: byte %d: block tail not zero" % (path, off))
            counts["pad"] += 1
            off += left
            continue
        if off + 7 > len(data):
            raise ValueError("%s: byte %d: truncated chunk header" % (path, off))
        crc, length, typ = struct.unpack("<IHB", data[off:off + 7])
        if 7 + length > left:
            raise ValueError("%s: byte %d: chunk crosses a block end" % (path, off))
        body = data[off + 7:off + 7 + length]
        if len(body) != length:
            raise ValueError("%s: byte %d: truncated chunk" % (path, off))
        if zlib.crc32(body, zlib.crc32(bytes([typ]))) != crc:
            raise ValueError("%s: byte %d: CRC mismatch" % (path, off))
        counts[typ] += 1
        if typ == 1:
            if pending is not None:
                raise ValueError("%s: byte %d: FULL inside a split record" % (path, off))
            records.append(body)
        elif typ == 2:
            if pending is not None:
                raise ValueError("%s: byte %d: FIRST inside a split record" % (path, off))
            pending = body
        elif typ in (3, 4):
            if pending is None:
                raise ValueError("%s: byte %d: MIDDLE/LAST without FIRST" % (path, off))
            pending += body
            if typ == 4:
                records.append(pending)
                pending = None
        else:
            raise ValueError("%s: byte %d: chunk type %d" % (path, off, typ))
        off += 7 + length
    if pending is not None:
        raise ValueError("%s: ends inside a split record" % path)
    return records, counts


# ---- values ----

def norm(v):
    """runlog's JSON export writes NaN/Infinity as strings; W&B's JSON bare."""
    if isinstance(v, str) and v in ("NaN", "Infinity", "-Infinity"):
        return float(v.replace("Infinity", "inf"))
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    return v


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def loads(text):
    return json.loads(text)  # Python's json reads bare NaN and Infinity, as W&B writes them


def ts(t):
    return t.seconds + t.nanos / 1e9


ID36 = re.compile(r"^[a-z0-9]{128}$")  # W&B's generate_fast_id(128)


def wb_artifact_name(name):
    """W&B's sanitize_artifact_name() (wandb/sdk/artifacts/_internal_artifact.py),
    cut to W&B's 128 characters as spec/EXPORTS.md §10.2 says."""
    clean = re.sub(r"[^a-zA-Z0-9_\-.]+", "", name)
    if clean == name and len(clean) <= 128:
        return name
    crc = zlib.crc32(name.encode("utf-8")) & 0xFFFFFFFF
    return clean[:121] + "-" + base64.urlsafe_b64encode(crc.to_bytes(4, "big")).rstrip(b"=").decode()


# system keys whose W&B name differs: runlog's -> W&B's (spec/EXPORTS.md §10.1;
# cpu keeps its name and is divided by the metadata's cpu_count; disk space is
# named by the metadata's disk_mount, "/" without it)
STATS = {"system.cpu": "cpu.system_percent", "disk.usagePercent": "disk.%s.usagePercent",
         "disk.usageGB": "disk.%s.usageGB"}


def wb_stats(sample, cpus, mount):
    out = {}
    for k, v in sample.items():
        if k.startswith("_"):
            continue
        name = STATS.get(k, k)
        out[name % mount if k.startswith("disk.usage") else name] = v / cpus if k == "cpu" and cpus else v
    return out


# ---- media ----

def is_media(v):
    if isinstance(v, dict):
        return v.get("_type") in ("image", "table")
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) and x.get("_type") == "image" for x in v)


def digests(v):
    # export json writes digests in hex in history rows, as base64 bytes in the summary
    def hexed(d):
        return d if len(d) == 32 else base64.b64decode(d).hex()
    return [hexed(x["digest"]) for x in (v if isinstance(v, list) else [v])]

class Run:
    def __init__(self, name, files, outdir):
        self.name, self.files, self.dir = name, files, outdir
        self.tmp = tempfile.mkdtemp(prefix="wbcheck-")
        self.exports = []
        for i, f in enumerate(files):
            txt = subprocess.run([RUNLOG, "export", "json", f], check=True,
                                 capture_output=True).stdout
            self.exports.append(json.loads(txt))
            img = os.path.join(self.tmp, "images%d" % i)
            subprocess.run([RUNLOG, "extract", f, "--images", "-o", img], check=True,
                           capture_output=True)
        self.start = self.exports[0]["run"]["start_time_unix"]

    def file(self, rel):
        return os.path.join(self.dir, "files", rel)


def check_image_file(run, obj, extracted, what):
    check(isinstance(obj, dict) and obj.get("_type") == "image-file", what + ": image-file")
    path = run.file(obj["path"])
    check(obj["path"].startswith("media/images/") and os.path.isfile(path), what + ": file exists")
    data = open(path, "rb").read()
    check(hashlib.sha256(data).hexdigest() == obj["sha256"], what + ": sha256")
    check(obj["path"].rsplit("_", 1)[1].startswith(obj["sha256"][:20]), what + ": hash20 in name")
    check(len(data) == obj["size"], what + ": size")
    check(data == open(extracted, "rb").read(), what + ": bytes == runlog extract --images")
    check(data[:8] == b"\x89PNG\r\n\x1a\n", what + ": PNG signature")
    return obj["path"]


def check_table_artifact(run, key, got, doc, what):
    """The run_table artifact W&B logs with a table (_log_table_artifact() in
    wandb/sdk/data_types/utils.py), before the record that names it."""
    m = re.match(r"^wandb-client-artifact://([a-z0-9]+)/(.+)$", got["artifact_path"])
    ml = re.match(r"^wandb-client-artifact://([a-z0-9]+):latest/(.+)$", got["_latest_artifact_path"])
    check(m and ml and m.group(2) == ml.group(2) == key + ".table.json",  # WBValue.with_suffix()
          what + ": artifact paths %r %r" % (got["artifact_path"], got["_latest_artifact_path"]))
    if not (m and ml):
        return
    found = [(i, a) for i, a in run.table_arts if a.client_id == m.group(1)]
    check(len(found) == 1, what + ": one run_table artifact of client id " + m.group(1)[:12])
    if not found:
        return
    num, ar = found[0]
    run.tables_named.add(ar.client_id)
    check(num < run.cur_num, what + ": the artifact record before the history/summary record")
    check(ar.sequence_client_id == ml.group(1), what + ": _latest_artifact_path names its sequence")
    check(ar.name == wb_artifact_name("run-%s-%s" % (run.run_id, key)) and len(ar.name) <= 128,
          what + ": artifact name " + ar.name)
    check(ar.type == "run_table" and list(ar.aliases) == ["latest"] and ar.finalize, what + ": type, alias, finalize")
    check(ar.run_id == run.run_id and ar.manifest.version == 1 and
          ar.manifest.storage_policy == "wandb-storage-policy-v1", what + ": manifest header")
    ents = {e.path: e for e in ar.manifest.contents}
    images = sorted({c["path"] for row in doc["data"] for c in row
                     if isinstance(c, dict) and c.get("_type") == "image-file"})
    check(sorted(ents) == sorted([m.group(2)] + images), what + ": entries %r" % sorted(ents))
    real = os.path.realpath(run.dir)
    text = "wandb-artifact-manifest-v1\n"
    for p in sorted(ents):
        e = ents[p]
        lp = os.path.realpath(e.local_path)
        check(lp.startswith(os.path.join(real, "artifacts") + os.sep) and os.path.isfile(lp),
              what + ": entry outside files/, inside the run: " + e.local_path)
        data = open(lp, "rb").read()
        check(e.size == len(data) and e.digest == base64.b64encode(hashlib.md5(data).digest()).decode(),
              what + ": md5/size of " + p)
        if p in images:
            check(data == open(run.file(p), "rb").read(), what + ": image entry == the run's file " + p)
        else:
            art = json.loads(data)  # Table.to_json(artifact)
            check(art["_type"] == "table" and art["log_mode"] == "IMMUTABLE" and
                  art["ncols"] == got["ncols"] and art["nrows"] == got["nrows"], what + ": artifact form header")
            check(same(art["columns"], doc["columns"]) and same(art["data"], doc["data"]), what + ": artifact form data")
        text += "%s:%s\n" % (p, e.digest)
    check(ar.digest == hashlib.md5(text.encode()).hexdigest(), what + ": run_table manifest digest")


def check_cell(run, src_i, key, exp, got, what):
    """A history or summary value: media by structure, others by value."""
    img_dir = os.path.join(run.tmp, "images%d" % src_i)
    if isinstance(exp, dict) and exp.get("_type") == "image":
        check_image_file(run, got, os.path.join(img_dir, exp["file"]), what)
        check(got["width"] == exp["width"] and got["height"] == exp["height"], what + ": w/h")
        check(got.get("caption") == exp.get("caption"), what + ": caption")
        return True
    if isinstance(exp, list) and exp and all(isinstance(e, dict) and e.get("_type") == "image" for e in exp):
        check(got.get("_type") == "images/separated" and got["count"] == len(exp), what + ": images/separated")
        for i, (e, name) in enumerate(zip(exp, got["filenames"])):
            check_image_file(run, {"_type": "image-file", "path": name,
                                   "sha256": hashlib.sha256(open(run.file(name), "rb").read()).hexdigest(),
                                   "size": os.path.getsize(run.file(name))},
                             os.path.join(img_dir, e["file"]), "%s[%d]" % (what, i))
        return True
    if isinstance(exp, dict) and exp.get("_type") == "table":
        tables = [t for t in run.exports[src_i]["tables"] if t["key"] == key and t["digest"] == exp["digest"]]
        check(len(tables) >= 1, what + ": table in export json")
        t = tables[0]
        # Table.to_json(run) (wandb/sdk/data_types/table.py): these members, in this order
        check(list(got) == ["_type", "sha256", "size", "artifact_path", "_latest_artifact_path", "path",
                            "ncols", "nrows", "log_mode"], what + ": table-file members %r" % list(got))
        check(got.get("_type") == "table-file" and got["path"].startswith("media/table/"), what + ": table-file")
        check(got["log_mode"] == "IMMUTABLE", what + ": log_mode")
        data = open(run.file(got["path"]), "rb").read()
        check(hashlib.sha256(data).hexdigest() == got["sha256"] and len(data) == got["size"], what + ": table sha/size")
        doc = json.loads(data)
        check(doc["columns"] == t["columns"], what + ": columns")
        check(got["nrows"] == t["nrows"] == len(doc["data"]) and got["ncols"] == t["ncols"], what + ": nrows/ncols")
        for r, (erow, grow) in enumerate(zip(t["rows"], doc["data"])):
            for c, (ec, gc) in enumerate(zip(erow, grow)):
                if isinstance(ec, dict) and ec.get("_type") == "image":
                    check_image_file(run, gc, os.path.join(img_dir, ec["file"]), "%s row %d col %d" % (what, r, c))
                else:
                    check(same(norm(ec), gc), "%s row %d col %d: %r vs %r" % (what, r, c, ec, gc))
        check_table_artifact(run, key, got, doc, what)
        return True
    check(same(norm(exp), got), "%s: %r vs %r" % (what, exp, got))
    return False


# ---- one run ----

def check_run(run, expect_state, expect_code):
    wfiles = glob.glob(os.path.join(run.dir, "run-*.wandb"))
    check(len(wfiles) == 1, run.name + ": one .wandb file")
    records, counts = read_log(wfiles[0])
    recs = []
    for i, raw in enumerate(records):
        r = pb.Record()
        r.ParseFromString(raw)
        check(r.num == i + 1, "%s: record %d num %d" % (run.name, i, r.num))
        recs.append(r)
    kinds = [r.WhichOneof("record_type") for r in recs]
    check(kinds[0] == "header" and kinds[1] == "run", run.name + ": header, run first")
    check(kinds[-2:] == ["exit", "final"], run.name + ": exit, final last")
    by, nums = {}, {}
    for r in recs:
        by.setdefault(r.WhichOneof("record_type"), []).append(getattr(r, r.WhichOneof("record_type")))
        nums.setdefault(r.WhichOneof("record_type"), []).append(r.num)
    run.run_id = by["run"][0].run_id
    run.table_arts = [(n, a) for n, a in zip(nums.get("artifact", []), by.get("artifact", []))
                      if a.type == "run_table"]
    run.tables_named = set()
    ex0, exN = run.exports[0], run.exports[-1]
    ident = ex0["run"]

    # identity
    rr = by["run"][0]
    check(rr.run_id == ident["id"], run.name + ": run_id")
    check(rr.project == ident["project"] and rr.display_name == ident["name"], run.name + ": project/name")
    check(rr.run_group == ident["group"] and rr.job_type == ident["job_type"], run.name + ": group/job_type")
    check(rr.notes == ident["notes"] and list(rr.tags) == ident["tags"], run.name + ": notes/tags")
    check(abs(ts(rr.start_time) - ident["start_time_unix"]) < 1e-6, run.name + ": start_time")
    meta = {}
    for e in run.exports:
        meta.update(e["metadata"])
    check(rr.host == meta.get("host", ""), run.name + ": host")
    if "git" in meta:
        check(rr.git.commit == meta["git"]["commit"] and rr.git.remote_url == meta["git"]["remote"], run.name + ": git")

    # config: run record, config record, config.yaml
    config = {}
    for e in run.exports:
        config.update(e["config"])
    for items, where in ((rr.config.update, "run.config"), (by["config"][0].update, "config record")):
        got = {it.key: loads(it.value_json) for it in items}
        check(same(norm(config), got), "%s: %s %r vs %r" % (run.name, where, config, got))
    y = yaml.safe_load(open(run.file("config.yaml"), encoding="utf-8"))
    check(y.pop("wandb_version") == 1, run.name + ": config.yaml version")
    check(all(v["desc"] is None for v in y.values()), run.name + ": config.yaml desc")
    check(same(norm(config), {k: v["value"] for k, v in y.items()}), run.name + ": config.yaml values")

    # history: every row and value, in order
    hist = by.get("history", [])
    hist_nums = nums.get("history", [])
    rows = [(i, row) for i, e in enumerate(run.exports) for row in e["history"]]
    check(len(hist) == len(rows), "%s: %d history records, %d rows" % (run.name, len(hist), len(rows)))
    for n, (h, (src_i, row)) in enumerate(zip(hist, rows)):
        run.cur_num = hist_nums[n]
        got = {it.key: loads(it.value_json) for it in h.item}
        check(h.step.num == row["_step"] == got.pop("_step"), "%s row %d: _step" % (run.name, n))
        check(got.pop("_timestamp") == row["_timestamp"], "%s row %d: _timestamp" % (run.name, n))
        check(abs(got.pop("_runtime") - (row["_timestamp"] - run.start)) < 1e-6, "%s row %d: _runtime" % (run.name, n))
        exp = {k: v for k, v in row.items() if not k.startswith("_")}
        check(got.keys() == exp.keys(), "%s row %d: keys" % (run.name, n))
        for k in exp:
            check_cell(run, src_i, k, exp[k], got.get(k), "%s row %d %s" % (run.name, n, k))

    # summary: final record and wandb-summary.json
    summ = {}
    for e in run.exports:
        summ.update(e["summary"])
    run.cur_num = nums["summary"][-1]
    got = {it.key: loads(it.value_json) for it in by["summary"][-1].update}
    filed = json.load(open(run.file("wandb-summary.json")))
    check(same(got, filed), run.name + ": summary record == wandb-summary.json")
    end = exN["run"]["end_time_unix"]
    runtime = max(0, int(end - run.start))  # whole seconds, as W&B writes it
    check(got.pop("_runtime") == runtime and "." not in filed["_runtime"].__repr__(), run.name + ": summary _runtime (int)")
    check(got.pop("_wandb") == {"runtime": runtime}, run.name + ": summary _wandb.runtime")
    check(got.pop("_timestamp") == end, run.name + ": summary _timestamp")
    if rows:
        check(got.pop("_step") == rows[-1][1]["_step"], run.name + ": summary _step")
    check(got.keys() == summ.keys(), run.name + ": summary keys")
    for k in summ:
        exp = summ[k]
        if is_media(exp):
            # export json's summary has no "file" names: take the last row holding
            # the key (the summary's media value is that row's), same digests
            last = [row[k] for _, row in rows if k in row][-1]
            check(digests(last) == digests(exp), "%s summary %s: the last row's media" % (run.name, k))
            exp = last
        check_cell(run, len(run.exports) - 1, k, exp, got.get(k), "%s summary %s" % (run.name, k))

    # system samples
    stats = by.get("stats", [])
    samples = [s for e in run.exports for s in e["system"]]
    check(len(stats) == len(samples), run.name + ": stats count")
    cpus, mount = None, "/"
    for e in run.exports:
        cpus = e["metadata"].get("cpu_count", cpus)
        mount = e["metadata"].get("disk_mount", mount)
    run.stats_values = {}
    for s, exp in zip(stats, samples):
        check(abs(ts(s.timestamp) - exp["_timestamp"]) < 1e-6, run.name + ": stats timestamp")
        got_stats = {it.key: loads(it.value_json) for it in s.item}
        check(same(got_stats, wb_stats(exp, cpus, mount)), run.name + ": stats items, W&B's names and units %r" % got_stats)
        run.stats_values.update(got_stats)

    # console: records and output.log
    outs = by.get("output_raw", [])
    chunks = [c for e in run.exports for c in e["console"]]
    check(len(outs) == len(chunks), run.name + ": console count")
    raw = b""
    for o, c in zip(outs, chunks):
        check(o.output_type == (1 if c["stream"] == "stdout" else 0), run.name + ": console stream")
        check(o.line == c["text"].replace("\x00", "\ufffd"), run.name + ": console text")
        check(abs(ts(o.timestamp) - c["timestamp"]) < 1e-6, run.name + ": console timestamp")
        raw += base64.b64decode(c["data_base64"]) if "data_base64" in c else c["text"].encode()
    check(open(run.file("output.log"), "rb").read() == raw, run.name + ": output.log bytes")

    # alerts
    alerts = by.get("alert", [])
    exp_alerts = [a for e in run.exports for a in e["alerts"]]
    check([(a.title, a.text, a.level) for a in alerts] ==
          [(a["title"], a["text"] or "", a["level"]) for a in exp_alerts], run.name + ": alerts")
    check(all(a.wait_duration == 60000 for a in alerts), run.name + ": alerts wait 60 s (W&B's default)")

    # artifacts
    every_art = by.get("artifact", [])
    check(all(ID36.match(a.client_id) and ID36.match(a.sequence_client_id) for a in every_art),
          run.name + ": client ids are 128 base-36 digits, as W&B's")
    ids = [a.client_id for a in every_art] + [a.sequence_client_id for a in every_art]
    check(len(set(ids)) == len(ids), run.name + ": every artifact object has ids of its own")
    check(run.tables_named == {a.client_id for _, a in run.table_arts},
          run.name + ": every run_table artifact is named by a table value")
    arts = [a for a in every_art if a.type != "run_table"]
    exp_arts = [(i, a) for i, e in enumerate(run.exports) for a in e["artifacts"]]
    check(len(arts) == len(exp_arts), run.name + ": artifact count")
    real = os.path.realpath(run.dir)
    for ar, (src_i, ea) in zip(arts, exp_arts):
        what = "%s artifact %s:v%d" % (run.name, ea["name"], ea["version"])
        check(ar.name == ea["name"] and ar.type == ea["type"] and ar.description == ea["description"], what + ": fields")
        check(list(ar.aliases) == ea["aliases"], what + ": aliases")
        check(ar.finalize, what + ": finalize (wandb sync commits only a finalized artifact)")
        check(same(norm(ea["metadata"]), json.loads(ar.metadata)), what + ": metadata")
        check(ar.run_id == ident["id"] and ar.manifest.version == 1 and
              ar.manifest.storage_policy == "wandb-storage-policy-v1", what + ": manifest header")
        xdir = os.path.join(run.tmp, "art-%s-%d" % (ea["name"], ea["version"]))
        subprocess.run([RUNLOG, "extract", run.files[src_i], "--artifact",
                        "%s:v%d" % (ea["name"], ea["version"]), "-o", xdir], check=True, capture_output=True)
        ents = {e.path: e for e in ar.manifest.contents}
        check(sorted(ents) == [e["path"] for e in ea["entries"]], what + ": entry paths")
        text = "wandb-artifact-manifest-v1\n"
        for e in ea["entries"]:
            g = ents[e["path"]]
            check(g.size == e["size"], what + ": size of " + e["path"])
            if "ref" in e:
                check(g.ref == "file://" + e["ref"] and g.local_path == "", what + ": ref " + e["path"])
                data = open(e["ref"], "rb").read()
            else:
                lp = os.path.realpath(g.local_path)
                check(lp.startswith(real + os.sep) and os.path.isfile(lp), what + ": local_path inside " + g.local_path)
                data = open(lp, "rb").read()
                check(data == open(os.path.join(xdir, e["path"]), "rb").read(), what + ": bytes == extract")
            check(g.digest == base64.b64encode(hashlib.md5(data).digest()).decode(), what + ": md5 " + e["path"])
            text += "%s:%s\n" % (g.path, g.digest)
        check(ar.digest == hashlib.md5(text.encode()).hexdigest(), what + ": manifest digest")

    # files records name files that exist; every media file is named
    named = [f.path for fr in by.get("files", []) for f in fr.files]
    for p in named:
        check(os.path.isfile(run.file(p)), run.name + ": named file exists: " + p)
    media = [os.path.relpath(p, run.file("")) for p in glob.glob(run.file("media/**/*"), recursive=True)
             if os.path.isfile(p)]
    check(set(media) <= set(named), run.name + ": every media file named")
    for p in ("config.yaml", "wandb-summary.json", "wandb-metadata.json", "output.log", "requirements.txt"):
        check(p in named, run.name + ": named " + p)

    # metadata and exit
    md = json.load(open(run.file("wandb-metadata.json")))
    check(same(md.pop("runlog"), meta), run.name + ": wandb-metadata.json runlog")
    check(md.pop("state") == expect_state and md.pop("exitcode") == expect_code, run.name + ": state")
    # the EnvironmentRecord, from which wandb sync makes wandb-metadata.json
    # and config _wandb.e (wandb-metadata.json's other members are its protojson)
    envs = by.get("environment", [])
    check(len(envs) == 1 and kinds[1:4] == ["run", "config", "environment"],
          run.name + ": one environment record, after the run and config records")
    if not envs:
        return counts
    env = envs[0]
    argv = meta.get("argv", [])
    exp_env = {"os": meta.get("os_release", meta.get("os", "")), "host": meta.get("host", ""),
               "username": meta.get("user", ""), "executable": meta.get("executable", ""),
               "root": meta.get("cwd", ""), "program": argv[0] if argv else "", "args": argv[1:],
               "cpu_count": 0, "cpu_count_logical": meta.get("cpu_count", 0),
               "gpu_type": meta.get("gpu", ""), "gpu_count": meta.get("gpu_count", 0),
               "memory_total": meta.get("memory_total_bytes", 0), "disk": {}}
    if meta.get("disk_total_bytes", 0) > 0 and 0 <= meta.get("disk_used_bytes", -1) <= meta["disk_total_bytes"]:
        mount = meta.get("disk_mount")
        mount = mount if isinstance(mount, str) and mount.startswith("/") else "/"
        exp_env["disk"] = {mount: (meta["disk_total_bytes"], meta["disk_used_bytes"])}
    got_env = {"os": env.os, "host": env.host, "username": env.username, "executable": env.executable,
               "root": env.root, "program": env.program, "args": list(env.args), "cpu_count": env.cpu_count,
               "cpu_count_logical": env.cpu_count_logical, "gpu_type": env.gpu_type,
               "gpu_count": env.gpu_count, "memory_total": env.memory.total,
               "disk": {k: (d.total, d.used) for k, d in env.disk.items()}}
    check(got_env == exp_env, "%s: environment %r vs %r" % (run.name, got_env, exp_env))
    if "git" in meta:
        check(env.git.remote_url == meta["git"]["remote"] and env.git.commit == meta["git"]["commit"],
              run.name + ": environment git")
    check(abs(ts(env.started_at) - run.start) < 1e-6, run.name + ": environment started_at")
    check(ID36.match(env.writer_id), run.name + ": environment writer_id")
    # protojson of the record (JSON names; Timestamp as RFC 3339)
    want = json_format.MessageToDict(env)
    want.pop("startedAt", None)
    started = md.pop("startedAt")
    check(abs(datetime.datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp() - run.start) < 1e-6,
          run.name + ": wandb-metadata.json startedAt")
    check(md == want, "%s: wandb-metadata.json == protojson of the environment record: %r vs %r" % (run.name, md, want))
    check(by["exit"][0].exit_code == expect_code, "%s: exit code %d" % (run.name, by["exit"][0].exit_code))
    check(by["exit"][0].runtime == int(end - run.start), run.name + ": exit runtime")
    return counts


def run_ids(run_dir):
    """Client ids, sequence ids and the writer id of an exported run."""
    records, _ = read_log(glob.glob(os.path.join(run_dir, "run-*.wandb"))[0])
    ids, digests_ = [], []
    for raw in records:
        r = pb.Record()
        r.ParseFromString(raw)
        if r.WhichOneof("record_type") == "artifact":
            ids += [r.artifact.client_id, r.artifact.sequence_client_id]
            digests_.append((r.artifact.name, r.artifact.digest))
        elif r.WhichOneof("record_type") == "environment":
            ids.append(r.environment.writer_id)
    return ids, digests_


def check_second_export(first_dir):
    """A second export of the same run: new random ids for every artifact
    object (as W&B's SDK makes new ones for each), the same artifact
    digests (W&B identifies a version by its digest)."""
    tmp = tempfile.mkdtemp(prefix="wbcheck-again-")
    subprocess.run([RUNLOG, "export", "wandb", os.path.join(RUNS, "full.runlog"), "-o", tmp,
                    "--project", "wandb-tests", "--hash-references"], check=True, capture_output=True)
    a_ids, a_dig = run_ids(first_dir)
    b_ids, b_dig = run_ids(glob.glob(os.path.join(tmp, "offline-run-*"))[0])
    check(len(a_ids) == len(b_ids) and not set(a_ids) & set(b_ids), "second export: every id new")
    check(a_dig == b_dig, "second export: the same artifact names and digests")
    shutil.rmtree(tmp)


def find(run_id):
    d = glob.glob(os.path.join(OUT, "offline-run-*-" + run_id))
    check(len(d) == 1, "one directory for " + run_id)
    return d[0]


def main():
    full = Run("full", [os.path.join(RUNS, "full.runlog")], find("full-run-1"))
    counts = check_run(full, "finished", 0)
    check_second_export(full.dir)
    # the wide row (~90 KB) and the 100 KB console chunk cross blocks
    check(counts[2] >= 2 and counts[3] >= 2 and counts[4] >= 2, "FIRST/MIDDLE/LAST chunks used: %r" % counts)
    check(len(full.exports[0]["history"][2]) == 5003, "the wide row has 5,000 keys")
    # disk space by hand (make_runs.c): full's metadata has disk_mount
    # "/scratch/team a", crashed's has none (a file from before it: "/")
    got = {k: v for k, v in full.stats_values.items() if k.startswith("disk.") and "usage" in k}
    check(got == {"disk./scratch/team a.usagePercent": 71.5, "disk./scratch/team a.usageGB": 120.25},
          "full: disk space named by the metadata's disk_mount: %r" % got)
    crashed = Run("crashed", [os.path.join(RUNS, "crashed.runlog")], find("crashed-run"))
    check_run(crashed, "failed", 1)
    check(crashed.stats_values == {"disk./.usagePercent": 42.5, "disk./.usageGB": 7.25},
          "crashed: disk space without disk_mount under W&B's default /: %r" % crashed.stats_values)
    resumed = Run("resumed", [os.path.join(RUNS, "resumed.runlog")], find("resumed-run"))
    check(resumed.exports[0]["run"]["resumes"] == 1, "resumed.runlog was resumed once")
    check_run(resumed, "failed", 3)
    split = Run("split", [os.path.join(RUNS, "split-a.runlog"), os.path.join(RUNS, "split-b.runlog")],
                find("split-run"))
    check_run(split, "finished", 0)
    check(len(glob.glob(os.path.join(OUT, "offline-run-*"))) == 4, "four run directories")
    check(not glob.glob(os.path.join(OUT, ".tmp-*")), "no staging directory left")
    print("check_wandb: %d checks, %d failed" % (CHECKS[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
