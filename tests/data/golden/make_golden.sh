#!/bin/sh
# Writes one version's golden files (README.md beside this script) with the
# runlog of BUILD_DIR, and each FILE.dump.jsonl (`runlog dump`), then checks
# every file against the reader written from the spec (tests/spec/compare.py).
# Run it once, when a format version is released, into a new directory; never
# over the files of an earlier version (their dumps are those of the version
# that wrote them).
#
#   tests/data/golden/make_golden.sh BUILD_DIR tests/data/golden/vX.Y
#
# Needs /usr/bin/python3 with python3-zstandard and python3-xxhash (compare.py)
# and numpy (the runlog.wandb run).
set -eu
build=$(cd "$1" && pwd) out=$2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
runlog=$build/tools/runlog
py=/usr/bin/python3
if [ -e "$out" ]; then
    echo "make_golden.sh: $out exists: golden files are written once" >&2
    exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fixture and crashed: the CLI tests' deterministic fixture (fixed clock, salt, UUID).
"$build/tests/cli/cli-fixture" "$out/fixture.runlog"
"$build/tests/cli/cli-fixture" "$out/crashed.runlog" --no-finish

# demo: the quick-start demo's first run.
"$build/examples/demo" "$tmp/demo" >/dev/null
cp "$tmp/demo/experiment_1.runlog" "$out/demo.runlog"

# wide: 300 float keys (packed columns), resumed frames, an image list, an artifact.
"$py" - "$tmp" <<'EOF'
import struct, sys, zlib
def png(w, h, seed):
    def chunk(k, b):
        return struct.pack(">I", len(b)) + k + b + struct.pack(">I", zlib.crc32(k + b))
    row = lambda y: b"\0" + bytes((seed * 50 + x * 20 + y * 7) & 0xFF for x in range(w * 3))
    raw = b"".join(row(y) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for i in (1, 2):
    open("%s/img%d.png" % (sys.argv[1], i), "wb").write(png(4, 3, i))
open("%s/model.bin" % sys.argv[1], "wb").write(b"weights\n")
EOF
layers=""
n=0
while [ $n -lt 300 ]; do
    layers="$layers layer.$n.norm=$(echo "$n" | awk '{print 0.25 + 0.5 * $1}')"
    n=$((n + 1))
done
for step in 0 1 2 3; do
    # shellcheck disable=SC2086
    "$runlog" log "$out/wide.runlog" --project golden --name wide --step $step \
        $layers loss=0.5 phase=train
done
"$runlog" log "$out/wide.runlog" --step 4 acc=0.5 --image samples="$tmp/img1.png" \
    --image samples="$tmp/img2.png"
"$runlog" artifact "$out/wide.runlog" --name model --type model --alias best "$tmp/model.bin" >/dev/null
"$runlog" finish "$out/wide.runlog"

# python: a run of runlog.wandb (tables, histograms, images, console, alert, artifact).
cat >"$tmp/gen.py" <<'EOF'
import numpy as np
import runlog.wandb as wandb
run = wandb.init(project="golden", name="python",
                 config={"lr": 0.01, "layers": [64, 32], "opt": {"name": "adam"}})
for i in range(3):
    wandb.log({"loss": 1.0 / (i + 1), "acc": i / 4, "epoch": i, "note": "s%d" % i})
t = wandb.Table(columns=["image", "pred", "score"])
t.add_data(wandb.Image(np.zeros((3, 4, 3), dtype=np.uint8)), 1, 0.5)
t.add_data(wandb.Image(np.full((3, 4, 3), 200, dtype=np.uint8)), 2, float("nan"))
wandb.log({"predictions": t, "hist": wandb.Histogram([1, 2, 2, 3]),
           "sample": wandb.Image(np.zeros((3, 4), dtype=np.uint8), caption="zeros")})
run.summary["best_acc"] = 0.5
wandb.alert(title="low acc", text="acc below 0.6", level="WARN")
print("hello from the golden run", flush=True)
art = wandb.Artifact("net", type="model")
open("ckpt.pt", "wb").write(b"checkpoint bytes")
art.add_file("ckpt.pt")
run.log_artifact(art, aliases=["epoch-2"])
wandb.finish()
EOF
(cd "$tmp" && RUNLOG_DIR="$tmp/wandb" RUNLOG_SYSTEM_METRICS=off \
    PYTHONPATH="$build/python:$src/python" "$py" gen.py >/dev/null)
cp "$(find "$tmp/wandb" -name '*.runlog' | head -1)" "$out/python.runlog"

for f in "$out"/*.runlog; do
    "$runlog" dump "$f" >"${f%.runlog}.dump.jsonl"
done
"$py" "$src/tests/spec/compare.py" "$runlog" "$out"/*.runlog
