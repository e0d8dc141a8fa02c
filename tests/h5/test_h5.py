#!/usr/bin/python3
"""HDF5 export test (issue 4, spec/HDF5.md), run by `meson test --suite h5`.

usage: test_h5.py RUNLOG H5_FIXTURE DEMO TRAIN PLUGIN.so

Exports the demo's runs and the crafted runs of h5-fixture with
`runlog export hdf5`, then checks every path of spec/HDF5.md against
`runlog export json` of the same files, value for value (NaN as NaN);
the zstd variant through the project's filter plugin, with h5py and h5dump;
the merge of a resumed run kept in two files; the runs index, the name
links and the tables by step (with pandas); that conflicts are errors and
that the output never appears on error.
"""
import base64
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"test_h5: h5py/numpy missing under {sys.executable} ({e}); "
          "install python3-h5py and python3-numpy (scripts/install-deps.sh)")
    sys.exit(1)

RUNLOG, FIXTURE, DEMO, TRAIN, PLUGIN = (os.path.abspath(a) for a in sys.argv[1:6])
PLUGIN_DIR = os.path.dirname(os.path.abspath(PLUGIN))
checks = 0


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def ok(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def run(*args, expect=0, env=None):
    p = subprocess.run(list(args), capture_output=True, env=env)
    if expect is not None and p.returncode != expect:
        fail(f"{args}: exit {p.returncode}, expected {expect}\n{p.stderr.decode()}")
    return p


def export_json(path):
    return json.loads(run(RUNLOG, "export", "json", path).stdout)


# ---- names (spec/HDF5.md "Names") ----

SERIES = {"step", "timestamp", "value"}


def esc(name, reserved=None):
    if name == "":
        return "%"
    if name == ".":
        return "%2E"
    pre = "%_" if reserved and reserved(name) else ""
    return pre + name.replace("%", "%25").replace("/", "%2F")


def key_path(key, reserved):
    return "/".join(esc(c, reserved) for c in key.split("/"))


def series_res(n):
    return n in SERIES


def digits_res(n):
    return n.isdigit() and n.isascii()


# ---- values ----

SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def same(h, j, where):
    """An HDF5 scalar against its JSON value."""
    if isinstance(h, h5py.Empty):
        ok(j is None, f"{where}: Empty vs {j!r}")
    elif isinstance(h, (bool, np.bool_)):
        ok(isinstance(j, bool) and bool(h) == j, f"{where}: {h!r} vs {j!r}")
    elif isinstance(h, (int, np.integer)):
        ok(isinstance(j, int) and not isinstance(j, bool) and int(h) == j,
           f"{where}: {h!r} vs {j!r}")
    elif isinstance(h, (float, np.floating)):
        jv = SPECIAL.get(j, j) if isinstance(j, str) else j
        ok(isinstance(jv, (int, float)) and not isinstance(jv, bool), f"{where}: {h!r} vs {j!r}")
        ok((math.isnan(h) and math.isnan(jv)) or float(h) == jv, f"{where}: {h!r} vs {j!r}")
        if float(h) == 0 and isinstance(j, float):
            ok(math.copysign(1, h) == math.copysign(1, j), f"{where}: sign of zero")
    elif isinstance(h, (str, bytes)):
        ok(text(h) == j, f"{where}: {h!r} vs {j!r}")
    else:  # an array: a list of scalars
        ok(isinstance(j, list) and len(j) == len(h), f"{where}: {h!r} vs {j!r}")
        for i, (a, b) in enumerate(zip(h, j)):
            same(a.item() if hasattr(a, "item") else a, b, f"{where}[{i}]")


def norm(v):
    """JSON value with NaN strings kept as they are (both sides use them)."""
    return json.loads(json.dumps(v))


def check_tree(g, obj, where, top=True):
    """config/summary/metadata: json text, attributes, subgroups."""
    if top:
        got = norm(json.loads(g["json"].asstr()[()]))
        ok(got == norm(obj), f"{where}/json: {got} vs {norm(obj)}")
    for k, v in obj.items():
        if isinstance(v, dict):
            check_tree(g[esc(k, lambda n: n == "json")], v, f"{where}/{k}", top=False)
        elif k == "":
            continue
        elif isinstance(v, list) and not (v and all(
                isinstance(i, (int, float)) and not isinstance(i, bool) for i in v) or
                v and all(isinstance(i, bool) for i in v) or
                v and all(isinstance(i, str) for i in v)):
            ok(json.loads(g.attrs[k]) == v, f"{where}.{k} (JSON text)")
        else:
            h = g.attrs[k]
            if isinstance(h, np.ndarray) and h.dtype == np.uint8 and isinstance(v, str):
                # bytes (a media map's digest): base64 in JSON
                ok(base64.b64encode(h.tobytes()).decode() == v, f"{where}.{k} (bytes)")
                continue
            if isinstance(h, np.ndarray) and h.dtype.kind == "O":
                h = [text(s) for s in h]
            same(h, v, f"{where}.{k}")


def check_column(ds, values, where):
    """A 1-D dataset against the JSON values of its entries."""
    ok(ds.ndim == 1 and ds.shape[0] == len(values), f"{where}: length {ds.shape} vs {len(values)}")
    enc = ds.attrs.get("encoding")
    if enc is not None:
        ok(text(enc) == "json", f"{where}: encoding")
        got = [json.loads(s) for s in ds.asstr()[:]]
        ok(norm(got) == norm(values), f"{where}: JSON texts")
        return
    if ds.dtype.kind == "O":
        ok(list(ds.asstr()[:]) == values, f"{where}: texts")
        return
    data = ds[:]
    if ds.dtype.kind == "b":
        ok(all(isinstance(v, bool) for v in values), f"{where}: bool class")
    elif ds.dtype.kind == "i":
        ok(all(isinstance(v, int) and not isinstance(v, bool) for v in values), f"{where}: int class")
        ok(ds.dtype == np.int64, f"{where}: int64")
    elif ds.dtype.kind == "f":
        ok(ds.dtype == np.float64, f"{where}: float64")
        ok(any(isinstance(v, float) or isinstance(v, str) for v in values) or not values,
           f"{where}: float class though every value is an int")
    for i, (h, j) in enumerate(zip(data, values)):
        same(h.item(), j, f"{where}[{i}]")


def check_series(g, key, rows, where):
    """history/<key> or system/<key>: step, timestamp, value."""
    ok(text(g.attrs["key"]) == key, f"{where}: key attribute")
    n = len(rows)
    for name in ("step", "timestamp", "value"):
        ok(g[name].shape == (n,) and g[name].maxshape == (None,), f"{where}/{name}: shape")
        ok(g[name].chunks is not None, f"{where}/{name}: chunked")
    if rows and rows[0][0] is not None:
        ok(list(g["step"][:]) == [r[0] for r in rows], f"{where}/step")
    ts = g["timestamp"][:]
    ok(all(abs(a - float(r[1])) < 1e-6 for a, r in zip(ts, rows)), f"{where}/timestamp")
    check_column(g["value"], [r[2] for r in rows], f"{where}/value")


MEDIA = ("_type",)


def history_rows(doc):
    """key -> [(step, timestamp, value)] from export json's history."""
    out = {}
    for row in doc["history"]:
        for k, v in row.items():
            if k in ("_step", "_timestamp", "_runtime"):
                continue
            out.setdefault(k, []).append((row["_step"], row["_timestamp"], v))
    return out


def strip_file(v):
    return v


def check_run(r, doc, files, merged_rows=None):
    where = r.name
    run = doc["run"]
    for k in ("id", "project", "name", "group", "job_type", "notes", "state", "exit_code",
              "start_time", "end_time", "last_step", "resumes"):
        same(r.attrs[k], run[k], f"{where}.{k}")
    ok([text(t) for t in r.attrs["tags"]] == run["tags"], f"{where}.tags")
    ok([text(t) for t in r.attrs["files"]] == files, f"{where}.files")
    if len(files) == 1:
        same(r.attrs["rows"], run["rows"], f"{where}.rows")
    check_tree(r["config"], doc["config"], f"{where}/config")
    check_tree(r["summary"], doc["summary"], f"{where}/summary")
    check_tree(r["metadata"], doc["metadata"], f"{where}/metadata")
    hist = merged_rows if merged_rows is not None else history_rows(doc)
    ok(sum(1 for _ in walk_series(r["history"])) == len(hist), f"{where}: number of keys")
    for key, rows in hist.items():
        check_series(r["history"][key_path(key, series_res)], key, rows, f"{where}/history/{key}")
    # system samples: like history, the sample's sequence number as step
    sysrows = {}
    for s in doc["system"]:
        for k, v in s.items():
            if k not in ("_timestamp", "_runtime"):
                sysrows.setdefault(k, []).append((None, s["_timestamp"], v))
    ok(len(r["system"]) == len(sysrows), f"{where}: system keys")
    for key, rows in sysrows.items():
        check_series(r["system"][key_path(key, series_res)], key, rows, f"{where}/system/{key}")
    al = doc["alerts"]
    for col in ("title", "text", "level"):
        check_column(r["alerts"][col], [a[col] if a[col] is not None else "" for a in al],
                     f"{where}/alerts/{col}")
    ok(np.allclose(r["alerts/timestamp"][:], [float(a["timestamp"]) for a in al], atol=1e-6),
       f"{where}/alerts/timestamp")
    co = doc["console"]
    for col in ("stream", "text"):
        check_column(r["console"][col], [c[col] for c in co], f"{where}/console/{col}")
    ok(np.allclose(r["console/timestamp"][:], [float(c["timestamp"]) for c in co], atol=1e-6),
       f"{where}/console/timestamp")
    check_images(r, doc, where)
    check_tables(r, doc, where)
    check_artifacts(r, doc, where)


def walk_series(g):
    for name, item in g.items():
        if isinstance(item, h5py.Group):
            if "key" in item.attrs and "value" in item:
                yield item
            yield from walk_series(item)


def check_image(ds, img, where):
    ok(text(ds.attrs["CLASS"]) == "IMAGE" and text(ds.attrs["IMAGE_VERSION"]) == "1.2",
       f"{where}: Image spec attributes")
    ok(h5py.check_string_dtype(ds.attrs.get_id("CLASS").dtype).length == 6,
       f"{where}: CLASS is fixed-length")
    c = img.get("channels", 1)
    ok(text(ds.attrs["IMAGE_SUBCLASS"]) == ("IMAGE_GRAYSCALE" if c == 1 else "IMAGE_TRUECOLOR"),
       f"{where}: IMAGE_SUBCLASS")
    if c > 1:
        ok(text(ds.attrs["INTERLACE_MODE"]) == "INTERLACE_PIXEL", f"{where}: INTERLACE_MODE")
    shape = (img["height"], img["width"]) + ((c,) if c > 1 else ())
    ok(ds.shape == shape and ds.dtype == np.uint8, f"{where}: shape {ds.shape} vs {shape}")
    ok(text(ds.attrs["digest"]) == img["digest"] and text(ds.attrs["format"]) == img["format"],
       f"{where}: digest, format")
    same(ds.attrs["caption"], img.get("caption"), f"{where}.caption")


def check_images(r, doc, where):
    count = {}
    for img in doc["images"]:
        n = count.get(img["key"], 0)
        count[img["key"]] = n + 1
        ds = r["images"][key_path(img["key"], digits_res)][str(n)]
        w = f"{where}/images/{img['key']}/{n}"
        check_image(ds, {**img, "channels": ds.shape[2] if ds.ndim == 3 else 1}, w)
        same(ds.attrs["step"], img["step"], f"{w}.step")
        same(ds.attrs["index"], img["index"], f"{w}.index")
    ok(sum(count.values()) == sum(len(g) for g in walk_leaf_groups(r, "images")),
       f"{where}: number of images")


def walk_leaf_groups(r, name):
    if name not in r:
        return []
    out = []
    r[name].visititems(lambda n, o: out.append(o) if isinstance(o, h5py.Group) and "key" in o.attrs else None)
    return out


def check_tables(r, doc, where):
    count = {}
    for t in doc["tables"]:
        n = count.get(t["key"], 0)
        count[t["key"]] = n + 1
        g = r["tables"][key_path(t["key"], digits_res)][str(n)]
        w = f"{where}/tables/{t['key']}/{n}"
        for a in ("step", "nrows", "ncols", "digest"):
            same(g.attrs[a], t[a], f"{w}.{a}")
        ok([text(c) for c in g.attrs["columns"]] == t["columns"], f"{w}.columns")
        ok([text(c) for c in g.attrs["types"]] == t["types"], f"{w}.types")
        for c, (col, typ) in enumerate(zip(t["columns"], t["types"])):
            cells = [row[c] for row in t["rows"]]
            item = g[esc(col)]
            if typ != "image":
                check_column(item, cells, f"{w}/{col}")
            elif isinstance(item, h5py.Dataset):  # stacked N x H x W [x C]
                ok(item.shape[0] == len(cells), f"{w}/{col}: rows")
                for i, cell in enumerate(cells):
                    shape = (cell["height"], cell["width"]) + (
                        (cell["channels"],) if cell["channels"] > 1 else ())
                    ok(item.shape[1:] == shape, f"{w}/{col}[{i}]: shape")
            else:  # one dataset per row
                for i, cell in enumerate(cells):
                    if cell is None:
                        ok(str(i) not in item, f"{w}/{col}/{i}: null cell")
                    else:
                        check_image(item[str(i)], cell, f"{w}/{col}/{i}")
    ok(sum(count.values()) == sum(len(g) for g in walk_leaf_groups(r, "tables")),
       f"{where}: number of tables")
    # tables_by_step/<key>/<step>: a soft link to the last table of that step
    last = {}
    count = {}
    for t in doc["tables"]:
        n = count.get(t["key"], 0)
        count[t["key"]] = n + 1
        last[(t["key"], t["step"])] = n
    for (key, step), n in last.items():
        kp = key_path(key, digits_res)
        link = r["tables_by_step"][kp].get(str(step), getlink=True)
        ok(isinstance(link, h5py.SoftLink) and link.path == f"{r.name}/tables/{kp}/{n}",
           f"{where}/tables_by_step/{key}/{step} -> {getattr(link, 'path', link)}")
        ok(r["tables_by_step"][kp][str(step)].attrs["step"] == step,
           f"{where}/tables_by_step/{key}/{step}: the table of that step")
    ok(sum(len(g) for g in walk_leaf_groups(r, "tables_by_step")) == len(last),
       f"{where}: one step link per key and step")


def check_artifacts(r, doc, where):
    arts = doc["artifacts"]
    ok(len(arts) == 0 or "artifacts" in r, f"{where}: artifacts")
    for a in arts:
        g = r["artifacts"][esc(a["name"])][f"v{a['version']}"]
        w = f"{where}/artifacts/{a['name']}/v{a['version']}"
        for k in ("name", "type", "version", "description", "digest", "size"):
            same(g.attrs[k], a[k], f"{w}.{k}")
        ok(sorted(text(s) for s in g.attrs["aliases"]) == sorted(a["aliases"]), f"{w}.aliases")
        ok(json.loads(g.attrs["metadata"]) == a["metadata"], f"{w}.metadata")
        e = a["entries"]
        check_column(g["path"], [x["path"] for x in e], f"{w}/path")
        check_column(g["size"], [x["size"] for x in e], f"{w}/size") if False else \
            ok(list(g["size"][:]) == [x["size"] for x in e], f"{w}/size")
        ok(list(g["digest"].asstr()[:]) == [x.get("digest") or "" for x in e], f"{w}/digest")
        ok(list(g["ref"].asstr()[:]) == [x.get("ref", "") for x in e], f"{w}/ref")


def index_frame(f):
    """The runs index as spec/HDF5.md §3.1 reads it: one call, then texts decoded."""
    import pandas as pd
    df = pd.DataFrame(f["runs_index"][:])
    return df.apply(lambda c: c.str.decode("utf-8") if c.dtype == object else c)


def check_index(f, docs):
    """/runs_index against export json of each run (docs: id -> document)."""
    ix = f["runs_index"]
    ok(ix.ndim == 1 and ix.maxshape == (None,) and ix.chunks is not None, "runs_index: a column")
    ok(ix.dtype.names == ("id", "project", "name", "group", "job_type", "state", "exit_code",
                          "start_time", "end_time", "last_step", "tags", "config", "summary",
                          "path"), f"runs_index fields {ix.dtype.names}")
    df = index_frame(f)
    ok(list(df["id"]) == [text(g.attrs["id"]) for g in f["runs"].values()],
       "runs_index: one row per run, in the order of /runs")
    ok(len(df) == len(docs), "runs_index: every run")
    for _, row in df.iterrows():
        run = docs[row["id"]]["run"]
        doc = docs[row["id"]]
        w = f"runs_index[{row['id']}]"
        for k in ("project", "name", "group", "job_type", "state"):
            ok(row[k] == (run[k] if run[k] is not None else ""), f"{w}.{k}: {row[k]!r} vs {run[k]!r}")
        if run["exit_code"] is None:
            ok(math.isnan(row["exit_code"]), f"{w}.exit_code NaN")
        else:
            ok(row["exit_code"] == run["exit_code"], f"{w}.exit_code")
        if run["last_step"] is None:
            ok(math.isnan(row["last_step"]), f"{w}.last_step NaN")
        else:
            ok(row["last_step"] == run["last_step"], f"{w}.last_step")
        g = f[row["path"]]
        ok(text(g.attrs["id"]) == row["id"], f"{w}.path names the run's group")
        ok(row["start_time"] == g.attrs["start_time_unix"] and
           row["end_time"] == g.attrs["end_time_unix"], f"{w}: times as the attributes")
        ok(json.loads(row["tags"]) == run["tags"], f"{w}.tags")
        ok(norm(json.loads(row["config"])) == norm(doc["config"]), f"{w}.config")
        ok(norm(json.loads(row["summary"])) == norm(doc["summary"]), f"{w}.summary")


def check_links(f, expect):
    """/projects: expect maps (project group, link name) -> run id, and is all of it."""
    got = {}
    for p, g in f["projects"].items():
        for n in g:
            link = g.get(n, getlink=True)
            ok(isinstance(link, h5py.SoftLink), f"/projects/{p}/{n} is a soft link")
            got[(p, n)] = text(g[n].attrs["id"])
            ok(link.path == "/runs/" + esc(got[(p, n)]), f"/projects/{p}/{n} -> {link.path}")
    ok(got == expect, f"name links {got} vs {expect}")


def run_group(f, run_id):
    return f["runs"][esc(run_id)]


def all_datasets(f):
    out = {}
    f.visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
    return out


def same_file_content(a, b, what):
    da, db = all_datasets(a), all_datasets(b)
    ok(sorted(da) == sorted(db), f"{what}: same datasets")
    for name in da:
        x, y = da[name][()], db[name][()]
        if isinstance(x, np.ndarray) and x.dtype.names:  # the runs index: field by field
            ok(x.dtype == y.dtype, f"{what}: {name} type")
            for field in x.dtype.names:
                ok(np.array_equal(x[field], y[field], equal_nan=x.dtype[field].kind == "f"),
                   f"{what}: {name}.{field}")
        elif isinstance(x, np.ndarray) and x.dtype.kind == "f":
            ok(np.array_equal(x, y, equal_nan=True), f"{what}: {name}")
        elif isinstance(x, np.ndarray):
            ok(np.array_equal(x, y), f"{what}: {name}")
        else:
            ok(x == y, f"{what}: {name}")


def main():
    tmp = tempfile.mkdtemp(prefix="runlog-h5-")
    try:
        os.chdir(tmp)
        run(DEMO, "demo")
        run(TRAIN, "demo")
        os.mkdir("fx")
        run(FIXTURE, "fx")
        demo_files = sorted(os.path.join("demo", n) for n in os.listdir("demo") if n.endswith(".runlog"))
        ok(len(demo_files) == 6, "the demo wrote 6 runs")

        # 1. the demo sweep, every path against export json
        run(RUNLOG, "export", "hdf5", *demo_files, "-o", "sweep.h5")
        with h5py.File("sweep.h5") as f:
            ok(len(f["runs"]) == 6, "sweep: 6 runs")
            ok(text(f.attrs["compression"]) == "gzip", "sweep: gzip by default")
            ds = f["runs"][list(f["runs"])[0]]["history/acc/value"]
            ok(ds.compression == "gzip" and ds.shuffle, "gzip + shuffle")
            docs = {}
            for path in demo_files:
                doc = export_json(path)
                docs[doc["run"]["id"]] = doc
                check_run(run_group(f, doc["run"]["id"]), doc, [path])
            check_index(f, docs)
            check_links(f, {(esc(d["run"]["project"]), esc(d["run"]["name"])): i
                            for i, d in docs.items()})

        # 2. the crafted run (given twice: the same file merges into itself)
        crafted = "fx/crafted.runlog"
        run(RUNLOG, "export", "hdf5", crafted, "-o", "crafted.h5", "--with-artifact-data")
        run(RUNLOG, "export", "hdf5", crafted, crafted, "-o", "twice.h5", "--with-artifact-data")
        doc = export_json(crafted)
        with h5py.File("crafted.h5") as f:
            r = run_group(f, "h5-crafted/ü")
            check_run(r, doc, [crafted])
            # the leaf-and-prefix key, reserved names, unicode keys
            ok(r["history/train/value"].shape == (12,) and "loss" in r["history/train"],
               "train beside train/loss")
            ok(text(r["history/train/%_step"].attrs["key"]) == "train/step", "escaped train/step")
            ok("ünï" in r["history"] and "ключ" in r["history/ünï"], "unicode keys as groups")
            v = r["history/train/loss/value"][:]
            ok(np.isnan(v[1]) and v[4] == np.inf and v[7] == -np.inf, "NaN and infinities")
            ok(np.signbit(v[10]) and v[10] == 0, "-0.0 kept")
            ok(r["history/epoch/value"].dtype == np.int64, "ints as int64")
            ok(r["history/sparse/int_float/value"].dtype == np.float64, "ints and floats as float64")
            ok(r["history/flag/value"].dtype == np.bool_, "bools as bool")
            ok(h5py.check_string_dtype(r["history/phase/value"].dtype).encoding == "utf-8",
               "strings as UTF-8")
            # pixels, as the fixture drew them
            ok(np.array_equal(r["images/samples/0"][:].ravel(), np.arange(144, dtype=np.uint8)),
               "raw RGB pixels")
            ok(np.array_equal(r["images/encoded/png/0"][:].ravel(),
                              (np.arange(45) * 7 % 256).astype(np.uint8)), "PNG decoded")
            jpg = r["images/encoded/jpeg/0"][:].astype(int)
            ok(jpg.shape == (8, 8) and np.abs(jpg - (np.arange(8) * 32)[:, None]).max() <= 2,
               "JPEG decoded")
            stack = r["tables/eval/preds/0/img"]
            ok(stack.shape == (3, 4, 4) and all(stack[i].max() == i * 40 for i in range(3)),
               "table image column stacked")
            ok(r["tables/ragged/0/pic/0"].shape == (4, 4, 3) and
               r["tables/ragged/0/pic/1"].shape == (2, 3), "ragged image column per row")
            art = r["artifacts/model-ü/v0"]
            paths = list(art["path"].asstr()[:])
            ok(paths == ["data.tar", "sub/weights.bin"], f"artifact entries {paths}")
            with open("fx/weights.bin", "rb") as w:
                ok(art["data/1"][:].tobytes() == w.read(), "--with-artifact-data bytes")
            ok("0" not in art["data"], "no data for a reference")
        with h5py.File("crafted.h5") as a, h5py.File("twice.h5") as b:
            same_file_content(a, b, "the same file twice")

        # 2b. the runs index and the name links (spec/HDF5.md §3.1, §3.2):
        # names that repeat, a run without project and name, names with
        # '/' and '.', tables at repeated steps and under a key of digits
        named = ["fx/twin_new.runlog", "fx/twin_old.runlog", "fx/anon.runlog", "fx/slash.runlog",
                 "fx/dot.runlog", "fx/steps.runlog", crafted]
        p = run(RUNLOG, "export", "hdf5", *named, "-o", "named.h5")
        err = p.stderr.decode()
        ok("2 runs named 'twin' in project 'h5names'" in err and "h5-twin-new" in err,
           f"a repeated name is a warning: {err}")
        docs = {d["run"]["id"]: d for d in map(export_json, named)}
        with h5py.File("named.h5") as f:
            check_index(f, docs)
            check_links(f, {("h5names", "twin"): "h5-twin-new", ("%", "h5-anon%2F1"): "h5-anon/1",
                            ("h5names", "a%2Fb.c"): "h5-slash", ("h5names", "%2E"): "h5-dot",
                            ("h5names", "steps"): "h5-steps", ("h5test", "crafted ünï"): "h5-crafted/ü"})
            for i, path in enumerate(named):
                check_run(run_group(f, export_json(path)["run"]["id"]), docs[export_json(path)["run"]["id"]], [path])
            r = f["projects/h5names/steps"]
            ok(list(r["tables_by_step/preds"]) == ["5", "470", "471"], "step links in step order")
            ok(r["tables_by_step/preds/5/n"][:].tolist() == [1], "step 5: the second table of that step")
            ok(r["tables_by_step/preds/470/n"][:].tolist() == [2], "table at step 470: one lookup")
            ok(r["tables_by_step/%_470/470/n"][:].tolist() == [470], "a key of digits is escaped")
            ok(r["tables/preds/3/n"][:].tolist() == [3], "the old paths stay")

        # 3. zstd through the project's plugin: h5py and h5dump
        run(RUNLOG, "export", "hdf5", crafted, "-o", "crafted-zstd.h5", "--compression", "zstd:5")
        env = dict(os.environ, HDF5_PLUGIN_PATH=PLUGIN_DIR)
        code = ("import h5py,sys,numpy as np\n"
                "a=h5py.File('crafted.h5');b=h5py.File('crafted-zstd.h5')\n"
                "p='runs/h5-crafted%2Fü/history/train/loss/value'\n"
                "assert b[p]._filters.get('32015') is not None or '32015' in str(b[p]._filters), b[p]._filters\n"
                "assert np.array_equal(a[p][:], b[p][:], equal_nan=True)\n"
                "t='runs/h5-crafted%2Fü/tables/eval/preds/0/img'\n"
                "assert np.array_equal(a[t][:], b[t][:])\n"
                "print('zstd ok')\n")
        p = run("/usr/bin/python3", "-c", code, env=env)
        ok(b"zstd ok" in p.stdout, "h5py reads zstd through the plugin")
        noenv = {k: v for k, v in os.environ.items() if k != "HDF5_PLUGIN_PATH"}
        p = run("/usr/bin/python3", "-c", code, env=dict(noenv, HDF5_PLUGIN_PATH="/nonexistent"),
                expect=None)
        ok(p.returncode != 0, "zstd unreadable without the plugin (the test is not vacuous)")
        with h5py.File("crafted-zstd.h5") as f:  # the parent process: no plugin needed to open
            pass
        if shutil.which("h5dump"):
            ds = "/runs/h5-crafted%2Fü/history/train/value"
            out = run("h5dump", "-d", ds, "crafted-zstd.h5", env=env).stdout.decode()
            ok("(0): 1, 0.5, 0.333333" in out, "h5dump prints DATA through the plugin:\n" + out)
            out = run("h5dump", "-d", ds, "crafted-zstd.h5",
                      env=dict(noenv, HDF5_PLUGIN_PATH="/nonexistent"), expect=None).stdout.decode()
            ok("(0): 1, 0.5" not in out, "h5dump without the plugin shows no data")
        else:
            fail("h5dump missing (hdf5-tools)")
        run(RUNLOG, "export", "hdf5", crafted, "-o", "crafted-none.h5", "--compression", "none",
            "--with-artifact-data")
        with h5py.File("crafted.h5") as a, h5py.File("crafted-none.h5") as b:
            ok(b["runs/h5-crafted%2Fü/history/train/value"].compression is None, "none: no filter")
            same_file_content(a["runs"], b["runs"], "--compression none")

        # 4. a resumed run in two files: merged by step
        ra, rb = "fx/resumed_a.runlog", "fx/resumed_b.runlog"
        run(RUNLOG, "export", "hdf5", rb, ra, "-o", "resumed.h5")
        da, db = export_json(ra), export_json(rb)
        merged = {}
        for d in (da, db):
            for k, rows in history_rows(d).items():
                have = {s for s, _, _ in merged.get(k, [])}
                merged.setdefault(k, []).extend(r for r in rows if r[0] not in have)
        for k in merged:
            merged[k].sort(key=lambda r: r[0])
        with h5py.File("resumed.h5") as f:
            r = run_group(f, "h5-resumed")
            ok([text(s) for s in r.attrs["files"]] == [ra, rb], "merged: files oldest first")
            ok(list(r["history/loss/step"][:]) == list(range(15)), "merged: steps 0-14 once")
            ok(np.array_equal(r["history/loss/value"][:], 1.0 / (np.arange(15) + 1)), "merged: loss")
            ok(list(r["history/seen/value"][:]) == [s * 10 for s in range(15)], "merged: seen")
            ok(r.attrs["resumes"] == da["run"]["resumes"] + db["run"]["resumes"] + 1, "merged: resumes")
            ok(r.attrs["state"] == db["run"]["state"] and r.attrs["last_step"] == 14, "merged: state")
            for key, rows in merged.items():
                check_series(r["history"][key_path(key, series_res)], key, rows, f"merged/{key}")
            check_tree(r["config"], da["config"], "merged/config")

        # 5. conflicts are errors naming both files; no output appears
        for a, b, what in (("fx/conflict_a.runlog", "fx/conflict_b.runlog", "step 7"),
                           (ra, "fx/ident_b.runlog", "identity")):
            p = run(RUNLOG, "export", "hdf5", a, b, "-o", "conflict.h5", expect=1)
            err = p.stderr.decode()
            ok(a in err and b in err and what in err, f"conflict names both files: {err}")
            ok(not os.path.exists("conflict.h5"), "no output after a conflict")
            ok(not [n for n in os.listdir(".") if n.startswith("conflict.h5")], "no temporary left")

        # 6. a damaged input (spec/EXPORTS.md §1.5): by default (--tolerant,
        # kept as a no-op) its intact frames, the skipped bytes named, exit
        # status 1; with --strict an error and no output
        with open(ra, "rb") as src:
            data = bytearray(src.read())
        first = run(RUNLOG, "dump", ra).stdout.decode().splitlines()
        # a byte inside the frame that holds step 5 (the rows after the resume)
        pos = [json.loads(line)["offset"] for line in first if '"step":5,' in line][0] + 60
        data[pos] ^= 0xFF
        with open("damaged.runlog", "wb") as dst:
            dst.write(data)
        p = run(RUNLOG, "export", "hdf5", "--strict", "damaged.runlog", "-o", "damaged.h5",
                expect=1)
        ok(not os.path.exists("damaged.h5"), "--strict: no output from a damaged input")
        ok("damaged.runlog: byte" in p.stderr.decode(), "the error names the file and offset")
        p = run(RUNLOG, "export", "hdf5", "damaged.runlog", "-o", "damaged-default.h5", expect=1)
        ok("byte" in p.stderr.decode() and "skipped" in p.stderr.decode(),
           "the default names the skipped bytes: " + p.stderr.decode())
        ok(os.path.exists("damaged-default.h5"), "the default writes the intact frames")
        p = run(RUNLOG, "export", "hdf5", "--tolerant", "damaged.runlog", "-o", "damaged.h5",
                expect=1)
        ok("byte" in p.stderr.decode() and "skipped" in p.stderr.decode(),
           "--tolerant names the skipped bytes: " + p.stderr.decode())
        with h5py.File("damaged.h5") as a, h5py.File("damaged-default.h5") as b:
            same_file_content(a, b, "--tolerant is the default")
        dd = json.loads(run(RUNLOG, "export", "json", "damaged.runlog", expect=1).stdout)
        with h5py.File("damaged.h5") as f:
            r = run_group(f, "h5-resumed")
            rows = history_rows(dd)
            ok(len(rows["loss"]) < 10, "the damage removed rows")
            for key, rows in rows.items():
                check_series(r["history"][key_path(key, series_res)], key, rows,
                             f"tolerant/{key}")
        ok(len(first) > 0, "dump works")

        # 7. usage errors
        run(RUNLOG, "export", "hdf5", crafted, expect=2)
        run(RUNLOG, "export", "hdf5", crafted, "-o", "x.h5", "--compression", "lz4", expect=2)
        run(RUNLOG, "export", "hdf5", "missing.runlog", "-o", "x.h5", expect=1)
        ok(not os.path.exists("x.h5"), "no output for a missing input")
        print(f"test_h5: {checks} checks passed")
    finally:
        os.chdir("/")
        shutil.rmtree(tmp, ignore_errors=True)


main()
