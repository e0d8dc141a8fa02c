#!/usr/bin/python3
"""Writes the hostile run-logs of tests/data/hostile/ and their MANIFEST.

Every file is built from scratch after spec/FORMAT.md (file header §2, frames
§3, block directory §4, block 0 §5, history §6, index and trailer §7), with
valid XXH3-64 checksums wherever the damage is meant to lie past them: the
reader must reject the contents, not just a checksum.

    /usr/bin/python3 tests/data/hostile/make_hostile.py [OUTDIR]

MANIFEST.tsv, one line per file, is what tests/test_hostile.c checks:
    name  strict  rows_min  rows_max  verify  note
strict:   "ok" (a strict reader reads to the end) or "err" (it stops with an
          error whose detail names a byte offset); "open" (opening fails).
rows_*:   bounds on the history rows a tolerant reader returns (the intact
          part; rows of a malformed frame before the bad spot may come too).
verify:   "intact" or "damaged" (runlog_verify); "fail" (verify cannot open).
Needs the Debian packages python3-xxhash, python3-zstandard, python3-cbor2.
"""
import os
import struct
import sys

import cbor2
import xxhash
import zstandard

SALT = 0x1122334455667788
OTHER_SALT = 0x0BADC0FFEE0DDF00
T0 = 1700000000 * 10**9
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else HERE

RUN_START, CONFIG, HISTORY, SUMMARY, FINISH, INDEX = 0x01, 0x02, 0x03, 0x04, 0x08, 0x0A
RAW, ZSTD = 0, 1
DATA, IDX, TRAILER = 1, 2, 3


def xx(b):
    return xxhash.xxh3_64_intdigest(b)


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(v):
    return ((v << 1) ^ (v >> 63)) & (2**64 - 1)


def file_header(salt=SALT, minor=0, incompat=0):
    h = b"\x89RUNLOG\n" + struct.pack("<HHIQQ16sQq", 1, minor, 72, 0, incompat, bytes(range(16)), salt, T0)
    return h + struct.pack("<Q", xx(h))


def frame(kind, seq, payload, nrec, salt=SALT):
    h = struct.pack("<IBBHQQIIQ", 0x52464C52, kind, 0, 0, salt, seq, len(payload), nrec, xx(payload))
    return h + struct.pack("<Q", xx(h))


def payload(blocks, compress=False):
    """blocks: list of raw bytes; block 0 first. Returns the §4 payload."""
    d = varint(len(blocks))
    data = b""
    for raw in blocks:
        if compress and len(raw) >= 64:
            z = zstandard.ZstdCompressor(write_content_size=True).compress(raw)
            d += bytes([ZSTD]) + varint(len(raw)) + varint(len(z))
            data += z
        else:
            d += bytes([RAW]) + varint(len(raw)) + varint(len(raw))
            data += raw
    return d + data


def block0(keys, records):
    b = varint(len(keys))
    for k in keys:
        b += varint(len(k)) + k
    return b + b"".join(records)


def record(rtype, body):
    return bytes([rtype]) + varint(len(body)) + body


def run_start():
    return record(RUN_START, cbor2.dumps({"t": T0, "id": "hostile", "project": "hostile",
                                          "name": "n", "group": None, "job_type": None,
                                          "notes": None, "tags": [], "library": "make_hostile.py"}))


def config(cbor_set_bytes):
    """A config record whose "set" value is given as raw CBOR bytes."""
    body = b"\xa2" + cbor2.dumps("t") + cbor2.dumps(T0) + cbor2.dumps("set") + cbor_set_bytes
    return record(CONFIG, body)


def shuffle(values):
    raw = [struct.pack("<d", v) for v in values]
    return bytes(raw[i][j] for j in range(8) for i in range(len(values)))


def history_body(steps, cols, times=None):
    """cols: list of (key index, type, bitmap or None, block index)."""
    times = times or [T0 + 1000 * s for s in steps]
    b = varint(len(steps)) + varint(steps[0])
    for i in range(1, len(steps)):
        b += varint(steps[i] - steps[i - 1])
    b += varint(zigzag(times[0]))
    for i in range(1, len(times)):
        b += varint(zigzag(times[i] - times[i - 1]))
    b += varint(len(cols))
    for key, ctype, bitmap, blk in cols:
        b += varint(key) + bytes([ctype]) + (b"\x01" + bitmap if bitmap is not None else b"\x00")
        if ctype != 0:
            b += varint(blk)
    return b


def loss(step):
    return 1.0 / (step + 1)


def rows_frame(seq, first, n, salt=SALT, extra=()):
    """A data frame with rows first..first+n-1 of key "loss" (float)."""
    steps = list(range(first, first + n))
    body = history_body(steps, [(0, 3, None, 1)])
    recs = list(extra) + [record(HISTORY, body)]
    p = payload([block0([b"loss"], recs), shuffle([loss(s) for s in steps])])
    return frame(DATA, seq, p, len(recs), salt) + p


def finish_frame(seq):
    body = cbor2.dumps({"t": T0 + 10**9, "exit_code": 0, "state": "finished"})
    p = payload([block0([], [record(FINISH, body)])])
    return frame(DATA, seq, p, 1) + p


def good_frames():
    """Frames of a sane run: rows 0..4, rows 5..9, finish."""
    f0 = rows_frame(0, 0, 5, extra=[run_start()])
    f1 = rows_frame(1, 5, 5)
    f2 = finish_frame(2)
    return f0, f1, f2


def index_frame(seq, prev, entries, keys=(b"loss",)):
    """entries: (offset, seq, size, rows, first, last, key indices)."""
    b = varint(0 if prev is None else prev + 1) + varint(len(entries))
    for off, s, size, rows, first, last, ks in entries:
        b += varint(off) + varint(s) + varint(size) + varint(rows)
        if rows:
            b += varint(first) + varint(last - first)
        b += varint(len(ks)) + b"".join(varint(k) for k in ks)
    p = payload([block0(list(keys), [record(INDEX, b)])])
    return frame(IDX, seq, p, 1) + p


def trailer_frame(seq, index_offset, count):
    p = struct.pack("<QQQ", 0x4C494154524C524C, index_offset, count)
    return frame(TRAILER, seq, p, 0) + p


# ---- sealed payloads (spec §4.1, format 1.2) ----------------------------------
SEALED_BLOCKS = 0x2


def sealed_payload(blocks, sums=None):
    """blocks: raw bytes, block 0 first, all stored raw. Returns (payload,
    directory): each entry ends with the XXH3-64 of its block (sums[i] when
    given and not None), and payload_checksum covers the directory."""
    d = varint(len(blocks))
    for i, raw in enumerate(blocks):
        ck = xx(raw) if sums is None or sums[i] is None else sums[i]
        d += bytes([RAW]) + varint(len(raw)) + varint(len(raw)) + struct.pack("<Q", ck)
    return d + b"".join(blocks), d


def sealed_frame(kind, seq, blocks, nrec, sums=None, pck=None):
    """A frame with a sealed payload; pck replaces the directory's checksum."""
    p, d = sealed_payload(blocks, sums)
    h = struct.pack("<IBBHQQIIQ", 0x52464C52, kind, 0, 0, SALT, seq, len(p), nrec,
                    xx(d) if pck is None else pck)
    return h + struct.pack("<Q", xx(h)) + p


def rows_blocks(first, n, extra=()):
    """The blocks of rows_frame(): block 0 and the column of "loss"."""
    steps = list(range(first, first + n))
    recs = list(extra) + [record(HISTORY, history_body(steps, [(0, 3, None, 1)]))]
    return [block0([b"loss"], recs), shuffle([loss(s) for s in steps])], len(recs)


def finish_blocks():
    body = cbor2.dumps({"t": T0 + 10**9, "exit_code": 0, "state": "finished"})
    return [block0([], [record(FINISH, body)])], 1


# ---- blobs and artifacts (spec §12) ------------------------------------------
BLOB_CHUNK, ARTIFACT = 0x8D, 0x8E


def digest128(b):
    return xxhash.xxh3_128_digest(b)  # canonical: most significant byte first


def blob_frame(seq, data, digest=None, size=None, chunks=None):
    """A data frame holding a blob as chunk records, each in its own block.
    chunks: list of (offset, bytes); default one chunk with all of data."""
    digest = digest or digest128(data)
    size = len(data) if size is None else size
    chunks = chunks or [(0, data)]
    recs, blocks = [], []
    for i, (off, part) in enumerate(chunks):
        body = cbor2.dumps({"digest": digest, "offset": off, "size": size, "block": i + 1})
        recs.append(record(BLOB_CHUNK, body))
        blocks.append(part)
    p = payload([block0([], recs)] + blocks)
    return frame(DATA, seq, p, len(recs)) + p


def manifest_digest(entries):
    m = b""
    for e in sorted(entries, key=lambda e: e["path"].encode()):
        m += e["path"].encode() + b"\0" + e["digest"].hex().encode() + b"\0"
        m += str(e["size"]).encode() + b"\0" + e.get("ref", "").encode() + b"\n"
    return digest128(m)


def artifact_frame(seq, name, entries):
    body = cbor2.dumps({"t": T0, "name": name, "type": "model", "version": 0, "description": "",
                        "metadata": {}, "aliases": ["latest"], "digest": manifest_digest(entries),
                        "size": sum(e["size"] for e in entries), "entries": entries})
    p = payload([block0([], [record(ARTIFACT, body)])])
    return frame(DATA, seq, p, 1) + p


# ---- images and tables (spec §12.2-§12.4) -------------------------------------
def media_frame(seq, cells, step=5):
    """A data frame with one history row at step: loss = loss(step) (float) and,
    for each (key, CBOR bytes) of cells, a cbor column (type 5) holding it."""
    cols = [(0, 3, None, 1)] + [(i + 1, 5, None, i + 2) for i in range(len(cells))]
    keys = [b"loss"] + [k for k, _ in cells]
    blocks = [shuffle([loss(step)])] + [c for _, c in cells]
    p = payload([block0(keys, [record(HISTORY, history_body([step], cols))])] + blocks, compress=True)
    return frame(DATA, seq, p, 1) + p


DROP = object()


def image_map(data, fmt="raw", width=2, height=2, channels=3, **over):
    """A §12.3 image map naming the blob of data; over replaces entries (DROP removes)."""
    m = {"_type": "image", "digest": digest128(data), "format": fmt, "width": width,
         "height": height, "channels": channels, "size": len(data)}
    m.update(over)
    return {k: v for k, v in m.items() if v is not DROP}


def table_map(blob, columns, types, nrows, **over):
    m = {"_type": "table", "digest": digest128(blob), "nrows": nrows, "ncols": len(columns),
         "columns": columns, "types": types}
    m.update(over)
    return {k: v for k, v in m.items() if v is not DROP}


def table_blob(columns, types, data):
    return cbor2.dumps({"columns": columns, "types": types, "data": data})


def png_bytes(width, height, color=2, idat=None):
    """A PNG file: signature, IHDR (8-bit), one IDAT, IEND, valid CRCs."""
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    if idat is None:
        per_px = {0: 1, 2: 3, 4: 2, 6: 4}[color]
        row = b"\0" + bytes((x * 40 + 20) & 0xFF for x in range(width * per_px))
        idat = zlib.compress(row * height)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def noise(n, seed):
    """n deterministic pseudo-random bytes."""
    out = b""
    while len(out) < n:
        out += xxhash.xxh3_128_digest(struct.pack("<QQ", seed, len(out)))
    return out[:n]


MANIFEST = []


def emit(name, data, strict, rows_min, rows_max, verify, note):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    MANIFEST.append((name, strict, rows_min, rows_max, verify, note))


def with_rows_record(body, blocks, keys=(b"loss",), seq=1, nrec=1):
    """A data frame holding one history record with a given body and blocks."""
    p = payload([block0(list(keys), [record(HISTORY, body)])] + blocks)
    return frame(DATA, seq, p, nrec) + p


def main():
    H = file_header()
    f0, f1, f2 = good_frames()
    emit("baseline.runlog", H + f0 + f1 + f2, "ok", 10, 10, "intact",
         "a sane run (rows 0..9, finish) built by this script: checks the builder itself")

    # ---- lengths and counts near 2^32 and 2^64 ------------------------------
    steps = [5]
    big_rows = varint(2**32) + varint(5) + varint(zigzag(T0)) + varint(1) + b"\x00\x03\x00\x01"
    emit("rows_2p32.runlog", H + f0 + with_rows_record(big_rows, [shuffle([1.0])]) + f2,
         "err", 5, 5, "damaged", "history nrows = 2^32 (over the 2^24 limit)")
    emit("rows_2p24_plus1.runlog",
         H + f0 + with_rows_record(varint(2**24 + 1) + b"\x05", [b""]) + f2,
         "err", 5, 5, "damaged", "history nrows = 2^24 + 1 with a 1-byte rest: over the limit")
    over = b"\xff" * 9 + b"\x7f"   # a 10-byte varint above 2^64 - 1
    emit("varint_over_2p64.runlog",
         H + f0 + with_rows_record(over + b"\x00\x00\x00", [b""]) + f2,
         "err", 5, 5, "damaged", "history nrows as a 10-byte varint worth more than 2^64 - 1")
    max64 = b"\xff" * 9 + b"\x01"  # exactly 2^64 - 1
    p = varint(2) + bytes([RAW]) + varint(10) + varint(10) + bytes([RAW]) + max64 + max64 + b"\0" * 10
    emit("block_len_2p64.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "err", 5, 5, "damaged",
         "block directory: raw and stored length 2^64 - 1")
    p = varint(2**32) + b"\0" * 40
    emit("block_count_2p32.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "err", 5, 5, "damaged",
         "block directory: 2^32 blocks in a 45-byte payload")
    keys = varint(2**32 - 1) + varint(4) + b"loss"
    p = payload([keys])
    emit("key_count_2p32.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "err", 5, 5, "damaged",
         "key table: 2^32 - 1 keys announced, one present")
    text_2p32 = b"\xa1\x61k\x7b" + struct.pack(">Q", 2**32) + b"x"
    p = payload([block0([], [config(text_2p32)])])
    emit("cbor_string_2p32.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "config value: CBOR text string claiming 2^32 bytes (1 present)")
    arr_2p64 = b"\xa1\x61k\x9b" + b"\xff" * 8
    p = payload([block0([], [config(arr_2p64)])])
    emit("cbor_array_2p64.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "config value: CBOR array claiming 2^64 - 1 items")
    p = payload([block0([], [bytes([CONFIG]) + varint(2**32) + b"\xa0"])])
    emit("record_len_2p32.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "record stream: a record claiming 2^32 bytes")

    # ---- frames claiming gigabytes ------------------------------------------
    hdr = struct.pack("<IBBHQQIIQ", 0x52464C52, DATA, 0, 0, SALT, 1, 0xFFFFFFFF, 1, 0)
    hdr += struct.pack("<Q", xx(hdr))
    emit("frame_size_4gib.runlog", H + f0 + hdr + b"\0" * 64 + f1 + f2, "err", 10, 10, "damaged",
         "frame header (valid checksum) with payload_size 2^32 - 1: not a frame header; "
         "resync finds the frames after it")
    zeros = b"\0" * (1 << 20)
    z = zstandard.ZstdCompressor(write_content_size=True).compress(zeros)
    # Patch the frame content size field: claim 4 GiB in the zstd frame header.
    zc = zstandard.ZstdCompressor(write_content_size=False).compress(zeros)
    p = varint(1) + bytes([ZSTD]) + varint(1 << 20) + varint(len(zc)) + zc
    emit("zstd_no_content_size.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "err", 5, 5, "damaged",
         "block 0 as a zstd frame without a content size in its frame header")
    cctx = zstandard.ZstdCompressor(write_content_size=True)
    big = cctx.compress(b"\0" * 16)
    # zstd frame header: magic(4) FHD(1) ...; rewrite as an 8-byte FCS of 4 GiB.
    fhd = big[4]
    assert fhd & 0x20, "single segment expected"
    fcs_field = {0: 1, 1: 2, 2: 4, 3: 8}[fhd >> 6]
    new = big[:4] + bytes([(fhd & 0x3F) | 0xC0]) + struct.pack("<Q", 4 << 30) + big[5 + fcs_field:]
    p = varint(1) + bytes([ZSTD]) + varint(4 << 20) + varint(len(new)) + new
    emit("zstd_claims_4gib.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "err", 5, 5, "damaged",
         "block 0 as a zstd frame whose header claims 4 GiB of content (directory says 4 MiB)")
    # The directory and the zstd header agree on 64 MiB, the data is 16 bytes.
    small = cctx.compress(b"\0" * 16)
    fhd = small[4]
    fcs_field = {0: 1, 1: 2, 2: 4, 3: 8}[fhd >> 6]
    liar = small[:4] + bytes([(fhd & 0x3F) | 0x80]) + struct.pack("<I", 64 << 20) + small[5 + fcs_field:]
    p = varint(1) + bytes([ZSTD]) + varint(64 << 20) + varint(len(liar)) + liar
    emit("zstd_content_size_lies.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "err", 5, 5, "damaged",
         "block 0: directory and zstd header both say 64 MiB, the zstd data holds 16 bytes")
    p = varint(2) + bytes([RAW]) + varint(1) + varint(1) + bytes([ZSTD]) + varint((64 << 20) + 1) + varint(len(z)) + b"\0" + z
    emit("block_raw_limit_plus1.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "err", 5, 5, "damaged",
         "block raw length 64 MiB + 1, one over RUNLOG_MAX_BLOCK_RAW")
    p = varint(6) + bytes([RAW]) + varint(1) + varint(1)
    for _ in range(5):
        p += bytes([ZSTD]) + varint(60 << 20) + varint(len(z))
    p += b"\0" + z * 5
    emit("frame_raw_300mib.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "err", 5, 5, "damaged",
         "five blocks of 60 MiB each: a frame decompressing to 300 MiB (limit 256 MiB)")
    # 64 MiB exactly, honest zstd: must decode (bounded), a strict reader accepts.
    zz = cctx.compress(b"\0" * (64 << 20))
    p = varint(2) + bytes([RAW]) + varint(1) + varint(1) + bytes([ZSTD]) + varint(64 << 20) + varint(len(zz)) + b"\0" + zz
    emit("block_raw_64mib.runlog", H + f0 + frame(DATA, 1, p, 0) + p + f2, "ok", 5, 5, "intact",
         "an unreferenced block of exactly 64 MiB of zeros (%d bytes compressed): at the limit, valid" % len(zz))

    # ---- nesting --------------------------------------------------------------
    # Levels count every list and map: the record body map is level 1 and its
    # "set" map level 2, so total nesting N takes N - 2 lists.
    for depth, strict in ((64, "ok"), (65, "err"), (10000, "err")):
        item = b"\x81" * (depth - 2) + b"\x00"
        p = payload([block0([], [config(b"\xa1\x61k" + item)])], compress=True)
        # config "set" map adds one level: the list chain starts at depth 1.
        emit("cbor_depth_%d.runlog" % depth, H + f0 + frame(DATA, 1, p, 1) + p + f2, strict, 5, 5,
             "intact" if strict == "ok" else "damaged",
             "config value nested %d levels deep, counting the body and set maps (limit 64)" % depth)
    # Memory amplification: one-byte items decode to 24-byte value nodes, so
    # spec §10 bounds the values of one CBOR item at 2^24.
    n = 25 * 1000 * 1000
    item = b"\xa1\x61k\x9a" + struct.pack(">I", n) + b"\xf6" * n
    p = payload([block0([], [config(item)])], compress=True)
    emit("cbor_wide_25m.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "config value: a list of 25 million nulls, %d bytes compressed: over the 2^24 values "
         "of one CBOR item (before that limit: 1.2 GB of value nodes)" % len(p))
    n = (1 << 24) - 16
    item = b"\xa1\x61k\x9a" + struct.pack(">I", n) + b"\xf6" * n
    p = payload([block0([], [config(item)])], compress=True)
    emit("cbor_wide_limit.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "big", 5, 5, "any",
         "config value: a list of 2^24 - 16 nulls, just under the limit: valid; the test asks "
         "for no crash within the memory bound (an out-of-memory error is accepted)")

    # ---- invalid UTF-8 ----------------------------------------------------------
    for name, key, note in (("key_invalid_utf8", b"\xff\xfeloss", "key table key with bytes FF FE"),
                            ("key_overlong_slash", b"..\xc0\xaf..", "key with an overlong '/' (C0 AF)"),
                            ("key_surrogate", b"\xed\xa0\x80", "key holding a UTF-16 surrogate (ED A0 80)")):
        steps = [5]
        body = history_body(steps, [(0, 3, None, 1)])
        emit(name + ".runlog", H + f0 + with_rows_record(body, [shuffle([1.0])], keys=(key,)) + f2,
             "err", 5, 5, "damaged", note)
    p = payload([block0([], [config(b"\xa1\x62\xc3\x28\x01")])])
    emit("cbor_key_invalid_utf8.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "config map key C3 28 (invalid UTF-8)")
    p = payload([block0([], [config(b"\xa1\x61k\x62\x00\xff")])])
    emit("cbor_text_nul_ff.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "config text value 00 FF (NUL then an invalid byte)")

    # ---- duplicated, reordered, foreign frames ---------------------------------
    emit("frame_duplicated.runlog", H + f0 + f1 + f1 + f2, "err", 10, 10, "damaged",
         "the frame with rows 5..9 appears twice (same seq): the copy is out of sequence")
    emit("frames_reordered.runlog", H + f0 + f2 + f1, "err", 5, 10, "damaged",
         "frames in order seq 0, 2, 1: the last is out of sequence")
    emit("frame_foreign_salt.runlog", H + f0 + rows_frame(1, 5, 5, salt=OTHER_SALT) + f2,
         "err", 5, 5, "damaged", "the middle frame has another file's salt (valid checksums)")
    emit("all_frames_foreign.runlog", file_header(OTHER_SALT) + f0 + f1 + f2, "ok", 0, 0, "damaged",
         "file header salt differs from every frame's: no frame of this file (one torn tail)")

    # ---- directory, bitmap, column lies (payload checksums valid) -------------
    good_hist = history_body([5, 6, 7], [(0, 3, None, 1)])
    col = shuffle([loss(5), loss(6), loss(7)])
    p = varint(2) + bytes([RAW]) + varint(99) + varint(99)
    b0 = block0([b"loss"], [record(HISTORY, good_hist)])
    p = varint(2) + bytes([RAW]) + varint(len(b0)) + varint(len(b0)) + bytes([RAW]) + varint(len(col) + 8) + varint(len(col) + 8) + b0 + col
    emit("directory_lengths_lie.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "block directory lengths add up to more than the payload")
    zcol = zstandard.ZstdCompressor(write_content_size=True).compress(col * 4)
    p = varint(2) + bytes([RAW]) + varint(len(b0)) + varint(len(b0)) + bytes([ZSTD]) + varint(len(col)) + varint(len(zcol)) + b0 + zcol
    emit("directory_raw_len_lies.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "a zstd column block whose content size (96) differs from the directory's raw length (24)")
    p = varint(2) + bytes([7]) + varint(len(b0)) + varint(len(b0)) + bytes([RAW]) + varint(len(col)) + varint(len(col)) + b0 + col
    emit("directory_unknown_codec.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "block 0 with codec 7 (unknown: unsupported, refused)")
    bm_hist = history_body([5, 6, 7, 8, 9], [(0, 3, b"\x07", 1)])  # 3 rows present
    emit("bitmap_fewer_than_column.runlog",
         H + f0 + with_rows_record(bm_hist, [shuffle([loss(s) for s in range(5, 10)])]) + f2,
         "err", 5, 5, "damaged", "presence bitmap has 3 rows, the float column block holds 5 values")
    bm_hist = history_body([5, 6, 7], [(0, 3, b"\xff", 1)])  # bits for rows >= nrows
    emit("bitmap_bits_past_rows.runlog", H + f0 + with_rows_record(bm_hist, [col]) + f2, "err", 5, 5,
         "damaged", "presence bitmap sets bits for rows 3..7 of a 3-row record")
    two = history_body([5, 6, 7], [(0, 3, None, 1), (0, 2, None, 2)])
    emit("two_columns_one_key.runlog",
         H + f0 + with_rows_record(two, [col, b"\x02\x02\x02"]) + f2, "err", 5, 5, "damaged",
         "two columns of key 'loss' present in the same rows")
    kb = history_body([5, 6, 7], [(3, 3, None, 1)])
    emit("column_key_out_of_range.runlog", H + f0 + with_rows_record(kb, [col]) + f2, "err", 5, 5,
         "damaged", "a column naming key 3 of a 1-key table")
    kb = history_body([5, 6, 7], [(0, 3, None, 9)])
    emit("column_block_out_of_range.runlog", H + f0 + with_rows_record(kb, [col]) + f2, "err", 5, 5,
         "damaged", "a column naming block 9 of a 2-block frame")
    kb = history_body([5, 6, 7], [(0, 9, None, 1)])
    emit("column_unknown_type.runlog", H + f0 + with_rows_record(kb, [col]) + f2, "err", 5, 5,
         "damaged", "column type 9 (unsupported: must be refused)")
    # steps going down across records: frame 1 rows at steps 2..4 after rows 0..4
    emit("steps_go_back.runlog", H + f0 + rows_frame(1, 2, 3) + f2, "ok", 8, 8, "any",
         "the second frame's rows are steps 2..4, lower than the 4 before them "
         "(a writer MUST NOT; readers' behaviour is reported, not prescribed)")
    strs = history_body([5], [(0, 4, None, 1)])
    emit("string_len_lies.runlog", H + f0 + with_rows_record(strs, [varint(2**31) + b"abc"]) + f2,
         "err", 5, 5, "damaged", "a string column value claiming 2^31 bytes (3 present)")
    # rows 5..9 of loss, intact, beside a string column of key "note" whose
    # first value claims 2^31 bytes: a read of loss alone does not decode it
    steps = list(range(5, 10))
    two = history_body(steps, [(0, 3, None, 1), (1, 4, None, 2)])
    emit("value_block_other_key.runlog",
         H + f0 + with_rows_record(two, [shuffle([loss(s) for s in steps]), varint(2**31) + b"abc"],
                                   keys=(b"loss", b"note")) + f2,
         "err", 5, 10, "damaged", "rows 5..9: loss intact, but key note's string column (block 2) "
         "claims 2^31 bytes; a scan skips the frame, a read of loss alone need not decode block 2")

    # ---- index and trailer -----------------------------------------------------
    base = H + f0 + f1 + f2
    o0, o1 = 72, 72 + len(f0)
    ok_entries = [(o0, 0, len(f0), 5, 0, 4, [0]), (o1, 1, len(f1), 5, 5, 9, [0])]
    ix_off = len(base)

    def with_index(entries, prev=None, trailer_off=None, name=None, note=None, strict="ok",
                   rmin=10, rmax=10, verify="any"):
        ix = index_frame(3, prev, entries)
        tr = trailer_frame(4, ix_off if trailer_off is None else trailer_off, 4)
        emit(name, base + ix + tr, strict, rmin, rmax, verify, note)

    with_index(ok_entries, name="index_ok.runlog", verify="intact",
               note="a correct index and trailer (checks the builder)")
    with_index([(1 << 40, 0, len(f0), 5, 0, 4, [0]), (o1, 1, len(f1), 5, 5, 9, [0])],
               name="index_outside_file.runlog", note="index entry pointing at byte 2^40, past the end")
    with_index([(o0 + 7, 0, len(f0), 5, 0, 4, [0]), (o1, 1, len(f1), 5, 5, 9, [0])],
               name="index_into_frame.runlog", note="index entry pointing 7 bytes into a frame")
    with_index([(ix_off, 3, 200, 5, 0, 4, [0]), (ix_off, 3, 200, 5, 5, 9, [0])],
               name="index_points_to_itself.runlog", note="index entries pointing at the index frame")
    with_index(ok_entries, prev=ix_off, name="index_prev_loop.runlog",
               note="index whose previous-index pointer is itself (a loop)")
    with_index([(o1, 1, len(f1), 5, 5, 9, [0]), (o0, 0, len(f0), 5, 0, 4, [0])],
               name="index_entries_reversed.runlog", note="index entries in reverse file order")
    with_index([(o0, 0, len(f0), 5, 0, 4, [0])], name="index_missing_frame.runlog",
               note="index listing only the first of two data frames")
    with_index(ok_entries, trailer_off=o0, name="trailer_points_at_data.runlog",
               note="trailer index_offset names a data frame, not an index frame")
    with_index(ok_entries, trailer_off=ix_off + 5, name="trailer_points_into_garbage.runlog",
               note="trailer index_offset 5 bytes inside the index frame")
    with_index(ok_entries, trailer_off=2**64 - 1, name="trailer_offset_2p64.runlog",
               note="trailer index_offset 2^64 - 1 (was read as 'no previous index')")
    with_index(ok_entries, trailer_off=len(base) + len(index_frame(3, None, ok_entries)),
               name="trailer_points_at_itself.runlog", note="trailer index_offset names the trailer")

    # An index that tiles the file (every data frame listed, the finish frame
    # too) and is checksummed, but whose entries lie about keys (issue 17
    # item 6): readers that use it must notice (§7.2), verify reports it.
    o2 = o1 + len(f1)
    tile = [(o0, 0, len(f0), 5, 0, 4, [0]), (o1, 1, len(f1), 5, 5, 9, [0]), (o2, 2, len(f2), 0, 0, 0, [])]

    def tiling(entries, name, verify, note, keys=(b"loss",)):
        ix = index_frame(3, None, entries, keys)
        emit(name, base + ix + trailer_frame(4, ix_off, 4), "ok", 10, 10, verify, note)

    tiling(tile, "index_tiles_ok.runlog", "intact",
           note="a correct index listing every data frame (it tiles the file: readers use it)")
    tiling(tile[:1] + [(o1, 1, len(f1), 5, 5, 9, [])] + tile[2:], "index_lies_omits_key.runlog",
           "damaged", note="a tiling index whose entry for the second frame omits key 'loss' "
           "(read through it, the history had 5 of 10 rows)")
    tiling(tile, "index_lies_other_key.runlog", "damaged", keys=(b"acc",),
           note="a tiling index whose key table names 'acc' where the frames hold 'loss' "
           "(read through it, 'loss' had no history)")

    # ---- a frame whose claimed payload runs past the end, then intact frames --
    # Appending (resume, repair) completes the claimed extent and swallows the
    # frames after it: see tests/fuzz/open/repair and docs/RELIABILITY.md.
    ghost = struct.pack("<IBBHQQIIQ", 0x52464C52, DATA, 0, 0, SALT, 1, len(f1) + len(f2) + 200, 1, 0)
    ghost += struct.pack("<Q", xx(ghost))
    g1 = rows_frame(2, 5, 5)
    g2 = finish_frame(3)
    emit("overlong_frame_then_intact.runlog", H + f0 + ghost + g1 + g2, "err", 10, 10, "damaged",
         "a valid frame header claiming more payload than the file holds, followed by intact "
         "frames (rows 5..9, finish): garbage, then the intact frames")

    # ---- artifacts and blobs: `runlog extract` must stay inside its target --
    evil = b"runlog hostile test: this file must never be written\n"
    for name, path, note in (
            ("artifact_path_dotdot", "../evil.txt", "artifact entry path ../evil.txt"),
            ("artifact_path_deep_dotdot", "a/../../evil.txt", "artifact entry path a/../../evil.txt"),
            ("artifact_path_absolute", "/tmp/runlog-hostile-evil.txt", "artifact entry with an absolute path"),
            ("artifact_path_nul", "ok\0.txt", "artifact entry path with a NUL byte"),
            ("artifact_path_empty_component", "a//evil.txt", "artifact entry path with an empty component")):
        ent = [{"path": path, "size": len(evil), "digest": digest128(evil)}]
        emit(name + ".runlog", H + f0 + blob_frame(1, evil) + artifact_frame(2, "model", ent) + finish_frame(3),
             "any", 5, 5, "any", note + " (blob and manifest digests valid): `runlog extract` must refuse it "
             "and write nothing outside its directory")
    good = b"good bytes\n"
    ent = [{"path": "ok.txt", "size": len(good), "digest": digest128(good)}]
    emit("blob_digest_mismatch.runlog",
         H + f0 + blob_frame(1, b"evil bytes\n", digest=digest128(good)) + artifact_frame(2, "model", ent) + finish_frame(3),
         "any", 5, 5, "any", "the blob named by an artifact entry holds bytes that do not match its "
         "digest: extract must not produce ok.txt")
    half = len(good) // 2
    emit("blob_chunk_gap.runlog",
         H + f0 + blob_frame(1, good, chunks=[(0, good[:half - 1]), (half, good[half:])])
         + artifact_frame(2, "model", ent) + finish_frame(3), "any", 5, 5, "any",
         "blob chunks leave a one-byte gap: the blob is incomplete, extract must not produce ok.txt")
    lying = [{"path": "ok.txt", "size": 5, "digest": digest128(good)}]
    emit("artifact_size_lies.runlog",
         H + f0 + blob_frame(1, good) + artifact_frame(2, "model", lying) + finish_frame(3), "any", 5, 5,
         "any", "an artifact entry that records 5 bytes for a blob of 11 (manifest digest valid): "
         "extract must refuse it, not write the 11 bytes and print \"5 bytes\"")
    twice = [dict(ent[0]), dict(ent[0])]
    emit("artifact_path_twice.runlog",
         H + f0 + blob_frame(1, good) + artifact_frame(2, "model", twice) + finish_frame(3), "any", 5, 5,
         "any", "two artifact entries with the path ok.txt (manifest digest valid): extract must refuse "
         "the artifact, not write ok.txt twice and report 2 files")
    emit("artifact_ok.runlog", H + f0 + blob_frame(1, good) + artifact_frame(2, "model", ent) + finish_frame(3),
         "ok", 5, 5, "intact", "a correct artifact with one stored file ok.txt (checks the builder)")

    # ---- packed columns (§6.1): small columns sharing a block -----------------
    # Rows 5 and 6, keys loss (0) and acc (1), both float. Each descriptor is
    # (key, presence, block, slice length or None); the blocks follow.
    HP = file_header(minor=1, incompat=1)

    def packed_frame(descs, blocks, records=1):
        steps = [5, 6]
        b = varint(2) + varint(5) + varint(1) + varint(zigzag(T0 + 5000)) + varint(zigzag(1000))
        b += varint(len(descs))
        for key, presence, blk, ln in descs:
            b += varint(key) + bytes([3 if blk else 0, presence])
            if blk:
                b += varint(blk)
            if ln is not None:
                b += varint(ln)
        recs = [record(HISTORY, b)]
        if records == 2:  # the same body again, at steps 7 and 8
            b2 = varint(2) + varint(7) + b[2:]
            recs.append(record(HISTORY, b2))
        p = payload([block0([b"loss", b"acc"], recs)] + blocks)
        return frame(DATA, 1, p, len(recs)) + p

    losses = shuffle([loss(5), loss(6)])
    accs = shuffle([0.5, 0.75])
    P = 0x02
    ok = packed_frame([(0, P, 1, 16), (1, P, 1, 16)], [losses + accs])
    emit("packed_ok.runlog", HP + f0 + ok + f2, "ok", 7, 7, "intact",
         "two float columns packed in one 32-byte block, flag set (checks the builder)")
    emit("packed_no_flag.runlog", H + f0 + ok + f2, "ok", 7, 7, "damaged",
         "a packed column in a file whose header lacks packed_columns: readers decode it, "
         "verify reports it")
    emit("packed_slice_past_block.runlog",
         HP + f0 + packed_frame([(0, P, 1, 16), (1, P, 1, 24)], [losses + accs]) + f2,
         "err", 5, 5, "damaged", "second packed slice runs 8 bytes past the end of its block")
    emit("packed_slice_2p32.runlog",
         HP + f0 + packed_frame([(0, P, 1, 2**32 + 16), (1, P, 1, 16)], [losses + accs]) + f2,
         "err", 5, 5, "damaged", "packed slice length 2^32 + 16 (wraps to 16 in 32 bits)")
    emit("packed_slices_leave_bytes.runlog",
         HP + f0 + packed_frame([(0, P, 1, 16), (1, P, 1, 16)], [losses + accs + b"\0" * 8]) + f2,
         "err", 5, 5, "damaged", "packed slices cover 32 of the block's 40 bytes")
    emit("packed_presence_bits.runlog",
         HP + f0 + packed_frame([(0, 0x06, 1, 16), (1, P, 1, 16)], [losses + accs]) + f2,
         "err", 5, 5, "damaged", "presence byte 0x06: bit 2 is undefined")
    emit("packed_null_column.runlog",
         HP + f0 + packed_frame([(1, P, 0, 16), (0, 0, 1, None)], [losses]) + f2,
         "err", 5, 5, "damaged", "a null column (no block) with the packed bit")
    emit("packed_and_unpacked_share.runlog",
         HP + f0 + packed_frame([(0, 0, 1, None), (1, P, 1, 16)], [losses]) + f2,
         "err", 5, 5, "damaged", "an unpacked column and a packed slice use the same block")
    emit("packed_two_records_share.runlog",
         HP + f0 + packed_frame([(0, P, 1, 16), (1, P, 1, 16)], [losses + accs], records=2) + f2,
         "err", 5, 7, "damaged", "two history records pack the same block (rows 7 and 8 would "
         "repeat the values of rows 5 and 6)")
    emit("packed_lengths_mismatch_values.runlog",
         HP + f0 + packed_frame([(0, P, 1, 8), (1, P, 1, 24)], [losses + accs]) + f2,
         "err", 5, 5, "damaged", "slices fill the block but hold 1 and 3 floats for 2 rows")

    # ---- unknown required things ---------------------------------------------
    p = payload([block0([], [record(0x7F, b"\xa0")])])
    emit("record_unknown_required.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "any",
         "record type 0x7F (required, unknown): unsupported, a reader must stop")
    p = payload([block0([], [record(0xFE, b"\xa0")])])
    emit("record_unknown_ignorable.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f1[:0] + rows_frame(2, 5, 5) + finish_frame(3),
         "ok", 10, 10, "intact", "record type 0xFE (ignorable, unknown): skipped")
    p = payload([block0([], [])])
    emit("frame_kind_unknown_required.runlog", H + f0 + frame(0x05, 1, p, 0) + p + f2, "err", 5, 5, "any",
         "frame kind 5 (required, unknown): unsupported")
    h2 = bytearray(file_header())
    struct.pack_into("<Q", h2, 24, 1 << 40)
    struct.pack_into("<Q", h2, 64, xx(bytes(h2[:64])))
    emit("header_incompat_flag.runlog", bytes(h2) + f0 + f1 + f2, "open", 0, 0, "fail",
         "file header sets an unknown incompatible feature flag (bit 40)")

    # ---- images and tables (§12.2-§12.4): `runlog` commands on media -------
    # Rows 0..4 (f0), then each blob in a frame of its own, then the row at
    # step 5 (loss and the media cell), then finish. Every frame is valid: a
    # strict reader reads to the end and verify finds nothing (it checks no
    # blob digest, §8.4); the media are for test_hostile --media, which runs
    # info, dump, export json/csv/hdf5/wandb and extract --images on each.
    def media(name, blobs, cells, note):
        """blobs: (data, digest or None, size or None) per blob frame."""
        data, seq = H + f0, 1
        for b, dg, size in blobs:
            data += blob_frame(seq, b, digest=dg, size=size)
            seq += 1
        data += media_frame(seq, [(k, cbor2.dumps(v)) for k, v in cells])
        emit(name + ".runlog", data + finish_frame(seq + 1), "ok", 6, 6, "intact", note)

    px = bytes(range(12))  # 2 x 2 x 3 raw pixels
    png = png_bytes(2, 2)
    cols, types = ["id", "score", "name", "ok", "pic", "extra"], ["int", "float", "string", "bool", "image", "value"]
    tb = table_blob(cols, types, [[1, 2], [0.5, 0.25], ["a", "b"], [True, False],
                                  [image_map(px), None], [{"k": [1, 2]}, None]])
    media("media_ok", [(px, None, None), (png, None, None), (tb, None, None)],
          [(b"img", image_map(px)), (b"png", image_map(png, "png", channels=3)),
           (b"tbl", table_map(tb, cols, types, 2))],
          "a correct raw image (img), PNG (png) and table with an image column (tbl) at step 5: "
          "every command succeeds and extract writes 3 images (checks the builder)")

    # raw images whose shape lies
    media("media_raw_dims_2p32", [(px, None, None)],
          [(b"img", image_map(px, width=2**32, height=2**32, channels=3))],
          "raw image 2^32 x 2^32 x 3 (the product wraps to 0 in 64 bits) naming a 12-byte blob: "
          "no image may be made of it")
    tiny = b"\x10\x20\x30\x40"
    media("media_raw_dims_wrap", [(tiny, None, None)],
          [(b"img", image_map(tiny, width=2**62 + 2, height=2**62 + 2, channels=1))],
          "raw image (2^62 + 2) x (2^62 + 2) x 1 naming a 4-byte blob: the product wraps to "
          "exactly 4 in 64 bits (and each side to 2 in 32): no 2 x 2 image may be made of it")
    media("media_raw_dims_wrap_empty", [(b"", None, None)],
          [(b"img", image_map(b"", width=2**31, height=2**31, channels=4))],
          "raw image 2^31 x 2^31 x 4 naming an empty blob: the product wraps to 0 = the blob "
          "size in 64 bits (a reader that trusts it writes 2^64 bytes from an empty buffer)")
    media("media_raw_size_mismatch", [(px[:10], None, None)],
          [(b"img", image_map(px[:10], width=2, height=2, channels=3))],
          "raw image 2 x 2 x 3 (12 bytes) naming a 10-byte blob")
    media("media_raw_channels_0", [(b"", None, None)],
          [(b"img", image_map(b"", channels=0))],
          "raw image 2 x 2 with channels 0, naming an empty blob (0 = 2 x 2 x 0 bytes)")
    px7 = bytes(range(28))
    media("media_raw_channels_7", [(px7, None, None)],
          [(b"img", image_map(px7, channels=7))],
          "raw image 2 x 2 with channels 7 (raw images have 1, 3 or 4), blob of 28 = 2 x 2 x 7 bytes")
    media("media_raw_width_0", [(b"", None, None)],
          [(b"img", image_map(b"", width=0))],
          "raw image of width 0 (height 2, channels 3) naming an empty blob")

    # blobs that are missing or do not match
    media("media_blob_missing", [],
          [(b"img", image_map(px))],
          "image whose digest names no blob in the file")
    media("media_blob_digest_mismatch", [(bytes(12), digest128(px), None)],
          [(b"img", image_map(px))],
          "image whose blob (12 zero bytes, stored under the digest of other bytes) does not "
          "match its digest: no image may be made of it")
    media("media_image_size_lies", [(px, None, None)],
          [(b"img", image_map(px, size=1000))],
          "raw 2 x 2 x 3 image whose map says size 1000; its blob (12 bytes, digest valid) "
          "agrees with the shape")

    # encoded images
    junk = noise(300, 1)
    media("media_png_not_png", [(junk, None, None)],
          [(b"img", image_map(junk, "png", width=16, height=16, channels=3))],
          "format png, the blob is 300 random bytes (no PNG signature)")
    bomb = png_bytes(65535, 65535, color=6, idat=__import__("zlib").compress(b"\0" * 1024))
    media("media_png_bomb", [(bomb, None, None)],
          [(b"img", image_map(bomb, "png", width=65535, height=65535, channels=4))],
          "a %d-byte PNG whose IHDR says 65535 x 65535 RGBA (17 GB decoded) over a tiny IDAT: "
          "a decoder must refuse it before allocating" % len(bomb))
    jjunk = b"\xff\xd8" + noise(200, 2)
    media("media_jpeg_garbage", [(jjunk, None, None)],
          [(b"img", image_map(jjunk, "jpeg", width=8, height=8, channels=3))],
          "format jpeg, the blob is FF D8 then 200 random bytes")

    # a progressive JPEG header (DQT, DHT, SOF2, SOS) claiming 65500 x 65500 x 3
    # (libjpeg's largest) over a few bytes of scan data
    jbomb = (b"\xff\xd8" + b"\xff\xdb" + struct.pack(">HB", 67, 0) + b"\x01" * 64
             + b"\xff\xc4" + struct.pack(">HB", 20, 0) + b"\x01" + b"\x00" * 16
             + b"\xff\xc2" + struct.pack(">HBHHB", 17, 8, 65500, 65500, 3)
             + b"".join(bytes([i, 0x11, 0]) for i in (1, 2, 3))
             + b"\xff\xda" + struct.pack(">HB", 12, 3) + b"".join(bytes([i, 0]) for i in (1, 2, 3))
             + b"\x00\x00\x00" + b"\x00" * 16 + b"\xff\xd9")
    media("media_jpeg_bomb", [(jbomb, None, None)],
          [(b"img", image_map(jbomb, "jpeg", width=65500, height=65500, channels=3))],
          "a %d-byte progressive JPEG whose SOF2 says 65500 x 65500 x 3: libjpeg allocates every "
          "block's coefficients (24 GB) when decoding starts, so a decoder must refuse the "
          "header first" % len(jbomb))

    # image maps of the wrong shape
    media("media_image_no_digest", [(px, None, None)],
          [(b"img", image_map(px, digest=DROP))], "image map without digest")
    media("media_image_no_width", [(px, None, None)],
          [(b"img", image_map(px, width=DROP))], "raw image map without width")
    media("media_image_width_text", [(px, None, None)],
          [(b"img", image_map(px, width="2"))], "raw image map whose width is the text \"2\"")
    media("media_image_digest_15", [(px, None, None)],
          [(b"img", image_map(px, digest=digest128(px)[:15]))],
          "image map whose digest is 15 bytes (the first 15 of the blob's)")
    media("media_image_type_video", [(px, None, None)],
          [(b"img", image_map(px, _type="video"))],
          "a map with _type \"video\" (not a media type): a plain value, no image")
    one = b"\x80"
    media("media_images_100k", [(one, None, None)],
          [(b"img", [image_map(one, width=1, height=1, channels=1)] * 100000)],
          "a list of 100 000 image maps (1 x 1 x 1 raw) in one cell, all naming the same 1-byte "
          "blob: within the 2^24 values of one CBOR item")

    # tables
    def table(name, blob, cell, note, dg=None):
        media(name, [(blob, dg, None)], [(b"tbl", cell)], note)

    bad = b"\xff" + noise(63, 3)
    table("media_table_not_cbor", bad, table_map(bad, ["a"], ["int"], 1),
          "table blob of 64 bytes starting with FF (a CBOR break): not CBOR")
    lst = cbor2.dumps([[1, 2]])
    table("media_table_not_map", lst, table_map(lst, ["a"], ["int"], 2),
          "table blob that is a CBOR list, not a map")
    b = table_blob(["a", "b", "c"], ["int", "int", "int"], [[1, 2], [3, 4]])
    table("media_table_data_short", b, table_map(b, ["a", "b", "c"], ["int", "int", "int"], 2),
          "table of 3 columns whose data holds 2 lists")
    b = table_blob(["a", "b"], ["int", "int"], [[1, 2, 3], [4, 5]])
    table("media_table_ragged", b, table_map(b, ["a", "b"], ["int", "int"], 3),
          "table columns of different lengths (3 and 2 cells)")
    b = table_blob(["a", "b"], ["int", "int"], [[1, 2], [3, 4]])
    table("media_table_nrows_2p24", b, table_map(b, ["a", "b"], ["int", "int"], 2**24),
          "table map says nrows 2^24, its blob (consistent, digest valid) holds 2 rows")
    c5k = ["c%d" % i for i in range(5000)]
    b = table_blob(c5k, ["int"] * 5000, [[i] for i in range(5000)])
    table("media_table_ncols_5000", b, table_map(b, c5k, ["int"] * 5000, 1),
          "table of 5000 columns (limit 4096), one row")
    b = table_blob(["n"], ["int"], [[1, "two"]])
    table("media_table_cell_type", b, table_map(b, ["n"], ["int"], 2),
          "table int column whose second cell is the text \"two\"")
    b = table_blob(["pic"], ["image"], [[image_map(b"not stored")]])
    table("media_table_image_missing_blob", b, table_map(b, ["pic"], ["image"], 1),
          "table image column whose cell names a blob the file lacks")
    big = image_map(tiny, width=2**31, height=2**31, channels=4)
    b = table_blob(["pic"], ["image"], [[big, big]])
    media("media_table_image_dims_wrap", [(tiny, None, None), (b, None, None)],
          [(b"tbl", table_map(b, ["pic"], ["image"], 2))],
          "table image column of 2 rows, both cells raw 2^31 x 2^31 x 4 (wraps to 0 in 64 bits) "
          "naming a 4-byte blob; one shape for every row, so an exporter may size one "
          "N x H x W x C array of the column from the maps before decoding any image")
    b = table_blob(["a", "b"], ["int", "complex"], [[1], [2]])
    table("media_table_unknown_type", b, table_map(b, ["a", "b"], ["int", "complex"], 1),
          "table column type \"complex\" (not a §12.4 type)")
    b = table_blob(["a"], ["int"], [[1, 2]])
    other = table_blob(["a"], ["int"], [[7, 8]])
    table("media_table_digest_mismatch", other, table_map(b, ["a"], ["int"], 2),
          "table blob whose bytes (cells 7, 8) do not match the digest (of cells 1, 2): no "
          "table cell may come from it", dg=digest128(b))

    # ---- keys holding U+0000 (§1 "Text": keys MUST NOT) -------------------------
    # Two history keys that read the same as C strings ("a"), then a config
    # map key with a NUL: without the rule they merged into one CSV column
    # and gave JSON duplicate keys (issue 17 item 11).
    steps = [5, 6]
    body = history_body(steps, [(0, 3, None, 1), (1, 3, None, 2)])
    p = payload([block0([b"a\x00x", b"a\x00y"], [record(HISTORY, body)]),
                 shuffle([1.0, 2.0]), shuffle([3.0, 4.0])])
    emit("key_with_nul.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "two history keys \"a\\0x\" and \"a\\0y\" (U+0000 in a key)")
    p = payload([block0([], [config(b"\xa1" + cbor2.dumps("lr\x00x") + cbor2.dumps(1))])])
    emit("map_key_with_nul.runlog", H + f0 + frame(DATA, 1, p, 1) + p + f2, "err", 5, 5, "damaged",
         "a config map key \"lr\\0x\" (U+0000 in a key)")

    sealed_files(f0, f1, f2)

    with open(os.path.join(OUT, "MANIFEST.tsv"), "w") as f:
        f.write("# name\tstrict\trows_min\trows_max\tverify\tnote (written by make_hostile.py)\n")
        for m in MANIFEST:
            f.write("\t".join(str(x) for x in m) + "\n")
    with open(os.path.join(OUT, "NOTES.md"), "w") as f:
        f.write(NOTES_HEAD)
        f.write("| file | strict reader | tolerant rows | verify | what is wrong |\n")
        f.write("|---|---|---|---|---|\n")
        for name, strict, lo, hi, verify, note in MANIFEST:
            rows = str(lo) if lo == hi else "%d..%d" % (lo, hi)
            f.write("| `%s` | %s | %s | %s | %s |\n" % (name, strict, rows, verify, note.replace("|", "\\|")))
    print("wrote %d files to %s" % (len(MANIFEST), OUT))


def sealed_files(f0, f1, f2):
    """Format 1.2, sealed payloads (§4.1): a file with the sealed_blocks flag,
    its frames sealed, then each way a sealed frame can be damaged or a file
    can mix the two layouts. The damage of a sealed frame (§4.1 "Checking a
    sealed frame") is found by the scan: the frame is skipped whole."""
    HS = file_header(minor=2, incompat=1 | SEALED_BLOCKS)
    HP = file_header(minor=1, incompat=1)

    def sealed(seq, blocks_nrec, kind=DATA, **kw):
        blocks, nrec = blocks_nrec
        return sealed_frame(kind, seq, blocks, nrec, **kw)
    s0 = sealed(0, rows_blocks(0, 5, extra=[run_start()]))
    s1 = sealed(1, rows_blocks(5, 5))
    s2 = sealed(2, finish_blocks())
    base = HS + s0 + s1 + s2
    o0, o1, o2 = 72, 72 + len(s0), 72 + len(s0) + len(s1)
    tile = [(o0, 0, len(s0), 5, 0, 4, [0]), (o1, 1, len(s1), 5, 5, 9, [0]), (o2, 2, len(s2), 0, 0, 0, [])]

    def index_blocks(entries):
        b = varint(0) + varint(len(entries))
        for off, sq, size, rows, first, last, ks in entries:
            b += varint(off) + varint(sq) + varint(size) + varint(rows)
            if rows:
                b += varint(first) + varint(last - first)
            b += varint(len(ks)) + b"".join(varint(k) for k in ks)
        return [block0([b"loss"], [record(INDEX, b)])], 1
    ix_off = len(base)
    ix = sealed(3, index_blocks(tile), kind=IDX)
    emit("sealed_ok.runlog", base + ix + trailer_frame(4, ix_off, 4), "ok", 10, 10, "intact",
         "format 1.2 (flags 0x3): rows 0..9, finish, a tiling index, every data and index "
         "payload sealed, the trailer not (checks the builder)")
    bad_ix = sealed(3, index_blocks(tile), kind=IDX, sums=[xx(b"not the block")])
    emit("sealed_index_block_wrong.runlog", base + bad_ix + trailer_frame(4, ix_off, 4),
         "err", 10, 10, "damaged",
         "sealed_ok.runlog with the index frame's block failing its checksum: a damaged frame, "
         "never used as an index; the rows are all there by scanning")

    blocks, nrec = rows_blocks(5, 5)
    emit("sealed_block_checksum_wrong.runlog",
         HS + s0 + sealed_frame(DATA, 1, blocks, nrec, sums=[None, xx(blocks[1]) ^ 1]) + s2,
         "err", 5, 5, "damaged",
         "the frame of rows 5..9: the checksum of its value block (loss) is wrong, the "
         "directory matches payload_checksum: the frame is damaged, skipped whole")
    # Rows 5..9 of loss (block 1) and acc (block 2); acc's block fails.
    steps = list(range(5, 10))
    two = [block0([b"loss", b"acc"], [record(HISTORY, history_body(steps, [(0, 3, None, 1), (1, 3, None, 2)]))]),
           shuffle([loss(x) for x in steps]), shuffle([0.5] * 5)]
    emit("sealed_other_block_wrong.runlog",
         HS + s0 + sealed_frame(DATA, 1, two, 1, sums=[None, None, xx(two[2]) ^ 1]) + s2,
         "err", 5, 10, "damaged",
         "rows 5..9 of loss (block 1, intact) and acc (block 2, checksum wrong): a scan skips the "
         "frame whole; a reader that reads only loss's blocks MAY return its rows (§4.1)")
    emit("sealed_directory_checksum_wrong.runlog",
         HS + s0 + sealed_frame(DATA, 1, blocks, nrec, pck=xx(sealed_payload(blocks)[1]) ^ 0x10) + s2,
         "err", 5, 5, "damaged",
         "the frame of rows 5..9: payload_checksum does not match its directory (every block "
         "matches its own checksum)")
    # Entry 0 (17 bytes) then entry 1 whose stored_len varint (80) is cut by the
    # payload's end: 23 bytes after nblocks, so the 11-byte rule holds.
    mib64 = varint(64 << 20)
    p = varint(2) + bytes([RAW]) + mib64 + mib64 + struct.pack("<Q", 0) + bytes([RAW]) + mib64 + b"\x80"
    h = struct.pack("<IBBHQQIIQ", 0x52464C52, DATA, 0, 0, SALT, 1, len(p), 1, xx(p))
    emit("sealed_directory_truncated.runlog", HS + s0 + h + struct.pack("<Q", xx(h)) + p + s2,
         "err", 5, 5, "damaged",
         "a sealed directory that cannot be delimited: the payload ends inside the stored_len "
         "varint of its second entry")
    p = varint(1000) + b"\0" * 3000
    h = struct.pack("<IBBHQQIIQ", 0x52464C52, DATA, 0, 0, SALT, 1, len(p), 1, xx(p))
    emit("sealed_block_count_11.runlog", HS + s0 + h + struct.pack("<Q", xx(h)) + p + s2,
         "err", 5, 5, "damaged",
         "a sealed directory of 1000 blocks in 3000 bytes: enough for 3 bytes an entry (§4), "
         "not for the 11 of a sealed entry (§4.1)")

    # The two layouts mixed up: the header's flag decides (§2.2).
    emit("sealed_frames_no_flag.runlog", HP + s0 + s1 + s2, "err", 0, 0, "damaged",
         "flags 0x1 (no sealed_blocks), every frame sealed as a 1.2 writer seals it: each "
         "payload_checksum covers the directory only, so every frame is damaged")
    cfg = [block0([], [config(cbor2.dumps({"lr": 0.5}))])]
    p, _ = sealed_payload(cfg)
    emit("sealed_dir_no_flag_whole_sum.runlog", HP + f0 + frame(DATA, 1, p, 1) + p + f2,
         "err", 5, 5, "damaged",
         "flags 0x1, a frame with a sealed directory whose payload_checksum covers the whole "
         "payload: intact, and read unsealed its directory is malformed (lengths)")
    emit("unsealed_frames_with_flag.runlog", HS + f0 + f1 + f2, "err", 0, 0, "damaged",
         "flags 0x3 (sealed_blocks), every frame written unsealed as in 1.1: read as sealed, "
         "no directory matches its payload_checksum")
    emit("unsealed_frame_with_flag.runlog", HS + s0 + f1 + s2, "err", 5, 5, "damaged",
         "flags 0x3, the frame of rows 5..9 written unsealed (1.1) between sealed ones")
    # §8.2: in a sealed file every frame but a trailer is checked as sealed,
    # frames of kinds a reader does not know included (it skips them once intact).
    p = b"a payload of a later version"
    emit("sealed_ignorable_kind.runlog", HS + s0 + sealed_frame(0x85, 1, [p], 0) + s2,
         "ok", 5, 5, "intact",
         "flags 0x3, a frame of unknown ignorable kind 0x85 with a sealed payload: intact, skipped")
    emit("unsealed_ignorable_kind.runlog", HS + s0 + frame(0x85, 1, p, 0) + p + s2,
         "err", 5, 5, "damaged",
         "flags 0x3, a frame of unknown ignorable kind 0x85 whose payload_checksum covers its "
         "whole payload (not sealed): checked as sealed (§8.2), it is damaged")


NOTES_HEAD = """# Hostile run-logs

Written by `make_hostile.py` (run it with Debian's `/usr/bin/python3`; it needs
python3-xxhash, python3-zstandard and python3-cbor2). Do not edit the files or
this note by hand: change the script and run it again. Checksums are valid
wherever the damage is meant to lie past them. `tests/test_hostile.c` reads each
file, under RLIMIT_AS = 512 MiB and an alarm, with a strict and a tolerant
reader, `runlog_reader_run`, `runlog_reader_history("loss")` and
`runlog_verify`, and checks the columns below (MANIFEST.tsv holds them).

Every sane frame holds rows of key `loss` with value 1/(step+1), so a reader
returning any other value has invented data. Most files are: rows 0..4 in an
intact frame, the hostile frame, a finish frame.

- strict: `ok` reads to the end, `err` stops with an error naming a byte
  offset, `open` is refused at open, `big` is only required not to crash or
  hang within the memory bound (an out-of-memory error is accepted).
- tolerant rows: bounds on the history rows a tolerant reader returns.
- verify: `intact` or `damaged` from runlog_verify, `any` when not checked,
  `fail` when verify cannot open the file.
- A note starting with KNOWN BUG marks a library bug not fixed yet: the main
  test skips the file (`test_hostile --only NAME DIR` runs it). None now:
  the last two, `media_raw_dims_wrap*` (`runlog extract --images` trusted a
  wrapping h x w x c), are fixed. The index/trailer files and the append check (`test_hostile --append`:
  resume `overlong_frame_then_intact.runlog`, add a row, every row must
  remain) found bugs that are fixed (docs/RELIABILITY.md).
- `artifact_*` and `blob_*` files are also given to `runlog extract --artifact
  model` (test_hostile --extract): bad paths and bad blobs must be refused,
  nothing may be written outside the target directory, and a blob that does
  not match its digest must never appear as a file.
- `media_*` files hold images and tables (spec/FORMAT.md §12.2-§12.4) that
  are valid at the frame level: rows 0..4, the blobs, a row at step 5 with
  `loss` and the media cell, finish. test_hostile --media runs `runlog info`,
  `dump`, `export json`, `export csv --table` (for tables), `export hdf5`,
  `export wandb` and `extract --images` on each, in a sandbox: each must
  exit 0 or 1 (1 with a message naming the file), within the memory bound
  and time limit, write nothing outside its directory and leave no partial
  output; an image whose blob is missing, does not match its digest or (raw)
  does not hold height x width x channels bytes must never become a file, nor
  a table whose blob is not a §12.4 table any cell.
- `sealed_*` and `unsealed_*` files are format 1.2 (spec/FORMAT.md §4.1,
  sealed payloads; `sealed_blocks` flag, header flags 0x3, unless the name
  says the flag is missing): a block or directory failing its checksum, a
  directory that cannot be delimited, and frames of one layout in a file of
  the other. tests/spec/check_sealed.py also checks that `runlog verify`
  reports their damage at the offsets where spec_reader.py finds it, and that
  a strict `runlog export json` fails naming the first.

"""


if __name__ == "__main__":
    main()
