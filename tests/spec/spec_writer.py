#!/usr/bin/python3
"""A small run-log writer written from spec/FORMAT.md alone: a cross-check of
format 1.2 (sealed payloads, §4.1) from the writing side. check_sealed.py
gives what it writes to the library (`runlog export json`, `verify`, `dump`)
and to spec_reader.py; neither this file nor that test looks at the C code.

usage: spec_writer.py OUT.runlog     writes sample() (below) to OUT.runlog

Section numbers are the spec's. Needs python3-xxhash and python3-zstandard.
"""
import struct
import sys

import xxhash
import zstandard

FILE_MAGIC = b"\x89RUNLOG\n"
FRAME_MAGIC = 0x52464C52                      # "RLFR", §3
TRAILER_MAGIC = 0x4C494154524C524C            # "LRLRTAIL", §7.2
PACKED_COLUMNS, SEALED_BLOCKS = 0x1, 0x2      # incompat_flags, §2.2
DATA, INDEX, TRAILER = 1, 2, 3                # frame kinds, §3.1
RUN_START, CONFIG, HISTORY, SUMMARY, FINISH, INDEX_REC = 0x01, 0x02, 0x03, 0x04, 0x08, 0x0A
NULL, BOOL, INT, FLOAT, STRING = 0, 1, 2, 3, 4  # column types, §6
RAW, ZSTD = 0, 1                              # codecs, §4


def xxh3(b):
    return xxhash.xxh3_64_intdigest(b)        # §1: XXH3-64, seed 0


def varint(n):                                # §1: unsigned LEB128, shortest form
    assert 0 <= n < 1 << 64
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(v):                                # §1, v an i64
    return ((v << 1) ^ (v >> 63)) & ((1 << 64) - 1)


def delta(a, b):                              # §1 wrapping deltas: (b - a) mod 2^64 as an i64
    d = (b - a) & ((1 << 64) - 1)
    return d - (1 << 64) if d >= 1 << 63 else d


# ---- §5.1 CBOR: shortest heads, every float as FB + 8 bytes -----------------

def cbor_head(major, arg):
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("CBOR argument over 64 bits")


def cbor(v):
    if v is None:
        return b"\xf6"
    if v is True or v is False:
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        assert -(1 << 63) <= v < 1 << 63
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return cbor_head(3, len(b)) + b
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


# ---- §2 header, §3 frames, §4 and §4.1 payloads ------------------------------

def file_header(salt, created, incompat=PACKED_COLUMNS | SEALED_BLOCKS, minor=2,
                uuid=bytes(range(0x40, 0x50))):
    h = FILE_MAGIC + struct.pack("<HHIQQ16sQq", 1, minor, 72, 0, incompat, uuid, salt, created)
    return h + struct.pack("<Q", xxh3(h))


def frame(kind, seq, payload, record_count, salt, payload_checksum=None):
    """§3: a 48-byte frame header, then the payload. payload_checksum defaults to
    the XXH3-64 of the whole payload (unsealed payloads and trailers)."""
    if payload_checksum is None:
        payload_checksum = xxh3(payload)
    h = struct.pack("<IBBHQQIIQ", FRAME_MAGIC, kind, 0, 0, salt, seq, len(payload),
                    record_count, payload_checksum)
    return h + struct.pack("<Q", xxh3(h)) + payload


def stored_block(raw, codec):
    if codec == RAW:
        return raw
    # §4: one zstd frame declaring Frame_Content_Size, no dictionary.
    return zstandard.ZstdCompressor(level=3, write_content_size=True).compress(raw)


def sealed_payload(blocks):
    """§4.1: blocks is a list of (codec, raw bytes), block 0 first. Returns
    (payload, directory): payload_checksum is the XXH3-64 of the directory."""
    stored = [stored_block(raw, codec) for codec, raw in blocks]
    d = varint(len(blocks))
    for (codec, raw), s in zip(blocks, stored):
        d += bytes([codec]) + varint(len(raw)) + varint(len(s)) + struct.pack("<Q", xxh3(s))
    return d + b"".join(stored), d


def unsealed_payload(blocks):
    """§4: the 1.0/1.1 payload of the same blocks (for files without the flag)."""
    stored = [stored_block(raw, codec) for codec, raw in blocks]
    d = varint(len(blocks))
    for (codec, raw), s in zip(blocks, stored):
        d += bytes([codec]) + varint(len(raw)) + varint(len(s))
    return d + b"".join(stored)


def data_frame(seq, blocks, record_count, salt, sealed=True, kind=DATA):
    if sealed:
        p, d = sealed_payload(blocks)
        return frame(kind, seq, p, record_count, salt, xxh3(d))
    return frame(kind, seq, unsealed_payload(blocks), record_count, salt)


# ---- §5 block 0, §6 history records ---------------------------------------------

def block0(keys, records):
    """keys: list of str; records: list of (type, body bytes)."""
    b = varint(len(keys)) + b"".join(varint(len(k.encode())) + k.encode() for k in keys)
    return b + b"".join(bytes([t]) + varint(len(body)) + body for t, body in records)


def column_bytes(ctype, values):
    """§6: the bytes of a column holding the present values, in row order."""
    n = len(values)
    if ctype == FLOAT:   # little-endian binary64, byte-shuffled
        raw = [struct.pack("<d", v) for v in values]
        return bytes(raw[i][j] for j in range(8) for i in range(n))
    if ctype == BOOL:
        out = bytearray((n + 7) // 8)
        for i, v in enumerate(values):
            if v:
                out[i >> 3] |= 1 << (i & 7)
        return bytes(out)
    if ctype == INT:     # zigzag wrapping deltas from 0
        prev, out = 0, b""
        for v in values:
            out += varint(zigzag(delta(prev, v)))
            prev = v
        return out
    if ctype == STRING:
        return b"".join(varint(len(v.encode())) + v.encode() for v in values)
    raise ValueError(ctype)


def history(steps, times, columns, first_block):
    """One history record (§6, §6.1) and the value blocks it names.

    columns: list of (key index, type, cells, packed), cells a dict row -> value
    of the rows where the column is present. An unpacked column takes a block
    of its own (zstd for floats, raw otherwise), the packed columns share one
    raw block, their slices in descriptor order; a null column has no block.
    Returns (body, blocks), blocks as (codec, raw bytes) numbered from first_block."""
    n = len(steps)
    body = varint(n) + varint(steps[0])
    body += b"".join(varint(steps[i] - steps[i - 1]) for i in range(1, n))
    body += varint(zigzag(times[0]))
    body += b"".join(varint(zigzag(delta(times[i - 1], times[i]))) for i in range(1, n))
    body += varint(len(columns))
    blocks, packed_raw, packed_block = [], b"", None
    for key, ctype, cells, packed in columns:
        presence = (0 if len(cells) == n else 0x01) | (0x02 if packed else 0)
        body += varint(key) + bytes([ctype, presence])
        if presence & 0x01:
            bm = bytearray((n + 7) // 8)
            for r in cells:
                bm[r >> 3] |= 1 << (r & 7)
            body += bytes(bm)
        if ctype == NULL:
            continue
        raw = column_bytes(ctype, [cells[r] for r in sorted(cells)])
        if packed:
            if packed_block is None:
                packed_block = first_block + len(blocks)
                blocks.append(None)          # filled in once every slice is known
            body += varint(packed_block) + varint(len(raw))
            packed_raw += raw
        else:
            body += varint(first_block + len(blocks))
            blocks.append((ZSTD if ctype == FLOAT else RAW, raw))
    if packed_block is not None:
        blocks[packed_block - first_block] = (RAW, packed_raw)
    return body, blocks


def index_body(prev, entries):
    """§7.1: entries of (offset, seq, size, rows, first_step, last_step, key indices)."""
    b = varint(0 if prev is None else prev + 1) + varint(len(entries))
    for off, seq, size, rows, first, last, keys in entries:
        b += varint(off) + varint(seq) + varint(size) + varint(rows)
        if rows:
            b += varint(first) + varint(last - first)
        b += varint(len(keys)) + b"".join(varint(k) for k in keys)
    return b


# ---- the sample file ---------------------------------------------------------------

SALT = 0x5EA1ED0F11E00012
T0 = 1700000000 * 10**9
NROWS = 20
KEYS = ["loss", "epoch", "ok", "name", "note"]


def sample_rows():
    """The history written: per row (step, time, {key: value})."""
    rows = []
    for r in range(NROWS):
        f = {"loss": 1.0 / (r + 1), "epoch": r // 5 - 2}
        if r % 2 == 0:
            f["ok"] = r % 4 == 0
        if r in (0, NROWS - 1):
            f["name"] = "first" if r == 0 else "last \u00e9"
        if r == 3:
            f["note"] = None
        rows.append((r, T0 + (r + 1) * 10**9 + 250 * 10**6, f))
    return rows


RUN_START_BODY = {"t": T0, "id": "spec-writer-0001", "project": "spec", "name": "sealed",
                  "group": None, "job_type": None, "notes": None, "tags": ["spec", "1.2"],
                  "library": "spec_writer.py"}
CONFIG_SET = {"lr": 0.001, "layers": [64, 32], "opt": {"name": "sgd", "momentum": -0.0}}
SUMMARY_SET = {"best": 0.75}
FINISH_BODY = {"t": T0 + 30 * 10**9, "exit_code": 0, "state": "finished"}


def sample(sealed=True, with_index=True):
    """A run: data frame 0 (run_start, config, one history record of NROWS rows:
    `loss` float unpacked in a zstd block; `epoch` int, `ok` bool and `name`
    string packed in one block; `note` a null column), data frame 1 (summary,
    finish), then an index frame and a trailer (§7). sealed=False writes the
    same file as format 1.1 (no sealed_blocks flag)."""
    rows = sample_rows()
    steps, times = [r[0] for r in rows], [r[1] for r in rows]

    def cells(key):
        return {i: f[key] for i, (_, _, f) in enumerate(rows) if key in f}
    cols = [(0, FLOAT, cells("loss"), False), (1, INT, cells("epoch"), True),
            (2, BOOL, cells("ok"), True), (3, STRING, cells("name"), True),
            (4, NULL, cells("note"), False)]
    body, vblocks = history(steps, times, cols, 1)
    recs = [(RUN_START, cbor(RUN_START_BODY)),
            (CONFIG, cbor({"t": T0 + 1, "set": CONFIG_SET})),
            (HISTORY, body)]
    out = file_header(SALT, T0, PACKED_COLUMNS | (SEALED_BLOCKS if sealed else 0),
                      2 if sealed else 1)
    f0_off = len(out)
    f0 = data_frame(0, [(RAW, block0(KEYS, recs))] + vblocks, len(recs), SALT, sealed)
    out += f0
    recs1 = [(SUMMARY, cbor({"t": T0 + 29 * 10**9, "set": SUMMARY_SET})),
             (FINISH, cbor(FINISH_BODY))]
    f1_off = len(out)
    f1 = data_frame(1, [(RAW, block0([], recs1))], len(recs1), SALT, sealed)
    out += f1
    if with_index:
        ib = index_body(None, [(f0_off, 0, len(f0), NROWS, 0, NROWS - 1, [0, 1, 2, 3, 4]),
                               (f1_off, 1, len(f1), 0, 0, 0, [])])
        idx_off = len(out)
        out += data_frame(2, [(RAW, block0(KEYS, [(INDEX_REC, ib)]))], 1, SALT, sealed, INDEX)
        out += frame(TRAILER, 3, struct.pack("<QQQ", TRAILER_MAGIC, idx_off, 3), 0, SALT)
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], "wb") as f:
        f.write(sample())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
