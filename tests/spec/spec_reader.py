#!/usr/bin/python3
"""An independent run-log reader written from spec/FORMAT.md alone.

It exists to check the spec: if this reader, which follows only the spec's
words, gives the same answers as librunlog, the spec is complete enough for
someone who never saw the C code. Section numbers below are the spec's.
It reads format 1.0, 1.1 and 1.2 (sealed payloads, §4.1: in a file with the
sealed_blocks flag the scan checks the directory against payload_checksum and
every block against its own checksum, and skips the frame whole as damaged
when one fails).

usage: spec_reader.py [--tolerant] [--records] FILE

Default output, JSON Lines: one {"step", "time", "values"} object per history
row, then {"config": ...}, {"metadata": ...}, {"summary": ...}, {"finish": ...}
(null when the run has no finish record). With --records: every record in file
order instead, as {"type", "time_ns", "step", "fields"} for history rows and
system samples and {"type", "time_ns", "body"} for the others (artifact and
alias records of §12 included; index and blob_chunk records are not printed).
Floats that JSON cannot hold are written as the strings "NaN", "Infinity",
"-Infinity"; bytes as base64 text.

Needs python3-zstandard and python3-xxhash (Debian packages). Exit status: 0,
1 on a damaged or unsupported file (message on stderr with the byte offset).
"""
import base64
import json
import math
import struct
import sys

import xxhash
import zstandard

MiB = 1 << 20
LIMITS = dict(key=1024, string=16 * MiB, depth=64, payload=64 * MiB, block=64 * MiB,
              frame_raw=256 * MiB, blocks=65536, rows=1 << 24, keys=1 << 20, values=1 << 24)
FILE_MAGIC = b"\x89RUNLOG\n"
FRAME_MAGIC = b"RLFR"
TRAILER_MAGIC = b"LRLRTAIL"
REC_NAMES = {0x01: "run_start", 0x02: "config", 0x03: "history", 0x04: "summary",
             0x07: "resume", 0x08: "finish", 0x0A: "index", 0x85: "alert",
             0x86: "console", 0x89: "partial", 0x8B: "system", 0x8C: "metadata",
             0x8D: "blob_chunk", 0x8E: "artifact", 0x8F: "alias"}  # §5, §12
# Records that --records does not print: index records (an accelerator, §5) and
# blob chunks (§12.1: the bytes of blobs, which media cells and artifacts name).
NOT_PRINTED = (0x0A, 0x8D)
# §2.2: the incompatible feature flags this reader knows.
INCOMPAT_PACKED_COLUMNS = 0x1
INCOMPAT_SEALED_BLOCKS = 0x2  # §2.2, §4.1 (format 1.2)
KNOWN_INCOMPAT = INCOMPAT_PACKED_COLUMNS | INCOMPAT_SEALED_BLOCKS


class Corrupt(Exception):
    """Malformed bytes (§8.3)."""


class Unsupported(Exception):
    """Something this version-1 reader must refuse (§2.2, §3.1, §4, §5, §6)."""


def xxh3(b):
    return xxhash.xxh3_64_intdigest(b)  # §1: XXH3-64, seed 0


# ---- §1 primitives ---------------------------------------------------------

class Cur:
    def __init__(self, data):
        self.d, self.p = data, 0

    def left(self):
        return len(self.d) - self.p

    def u8(self):
        if self.p >= len(self.d):
            raise Corrupt("unexpected end of data")
        self.p += 1
        return self.d[self.p - 1]

    def take(self, n):
        if n > self.left():
            raise Corrupt("length runs past the end of its structure")
        self.p += n
        return self.d[self.p - n:self.p]

    def varint(self):
        v = 0
        for i in range(10):
            b = self.u8()
            if i == 9 and b != 0x01:
                raise Corrupt("varint over 64 bits")
            v |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                if b == 0 and i > 0:
                    raise Corrupt("varint not in its shortest form")
                return v
        raise Corrupt("varint longer than 10 bytes")

    def count(self, limit):
        v = self.varint()
        if v > limit:
            raise Corrupt("count or length over its limit")
        return v


def unzigzag(u):
    return (u >> 1) ^ -(u & 1)


def wrap64(v):
    """An integer taken modulo 2^64 as an i64."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def utf8(b):
    try:
        return b.decode("utf-8")  # Python's codec rejects overlongs and surrogates
    except UnicodeDecodeError:
        raise Corrupt("text is not valid UTF-8")


# ---- §5.1 CBOR, restricted ----------------------------------------------------

def cbor_item(c, depth, n=None):
    """One data item; n counts its values (§5.1, §10: map keys are not values)."""
    if n is None:
        n = [0]
    n[0] += 1
    if n[0] > LIMITS["values"]:
        raise Corrupt("more than 2^24 values in one CBOR data item")
    ib = c.u8()
    major, info = ib >> 5, ib & 0x1F
    if major == 7:
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 25:
            return struct.unpack(">e", c.take(2))[0]
        if info == 26:
            return struct.unpack(">f", c.take(4))[0]
        if info == 27:
            return struct.unpack(">d", c.take(8))[0]
        raise Corrupt("CBOR simple value, undefined or break not allowed (§5.1)")
    if info < 24:
        arg = info
    elif info <= 27:
        arg = int.from_bytes(c.take(1 << (info - 24)), "big")
    elif info == 31:
        raise Corrupt("indefinite-length CBOR item (§5.1)")
    else:
        raise Corrupt("reserved CBOR additional information")
    if major == 0 or major == 1:
        if arg > (1 << 63) - 1:
            raise Corrupt("CBOR integer outside int64")
        return arg if major == 0 else -1 - arg
    if major == 2 or major == 3:
        if arg > LIMITS["string"]:
            raise Corrupt("CBOR string over 16 MiB")
        b = c.take(arg)
        return b if major == 2 else utf8(b)
    if major == 6:
        raise Corrupt("CBOR tag (§5.1)")
    if depth >= LIMITS["depth"]:
        raise Corrupt("CBOR nested deeper than 64")
    if major == 4:
        if arg > c.left():
            raise Corrupt("CBOR list count larger than the bytes left")
        return [cbor_item(c, depth + 1, n) for _ in range(arg)]
    if arg > c.left() // 2:
        raise Corrupt("CBOR map count larger than the bytes left")
    m = {}
    for _ in range(arg):
        kb = c.u8()
        if kb >> 5 != 3:
            raise Corrupt("CBOR map key is not a text string")
        c.p -= 1
        k = cbor_item(c, depth + 1, [0])  # a key: not counted
        if len(k.encode()) > LIMITS["key"]:
            raise Corrupt("CBOR map key over 1024 bytes")
        if "\0" in k:
            raise Corrupt("CBOR map key holds U+0000 (§1 Text)")
        m[k] = cbor_item(c, depth + 1, n)  # a repeated key: the last value wins
    return m


def cbor_body(body):
    """A record body: exactly one CBOR map filling the body (§5)."""
    c = Cur(body)
    v = cbor_item(c, 0)
    if c.left() or not isinstance(v, dict):
        raise Corrupt("record body is not exactly one CBOR map")
    return v


# ---- §2 file header ---------------------------------------------------------------

def file_header(data):
    if len(data) < 8 and FILE_MAGIC.startswith(data):
        raise Corrupt("truncated inside the file header")
    if data[:8] != FILE_MAGIC:
        raise Corrupt("not a run-log (magic)")
    if len(data) < 72:
        raise Corrupt("truncated inside the file header")
    if xxh3(data[:64]) != struct.unpack_from("<Q", data, 64)[0]:
        raise Corrupt("file header checksum mismatch")
    # every version_minor of major 1 is accepted (§2.1); compat_flags are ignored (§2.2)
    major, _minor, hsize, _compat, incompat = struct.unpack_from("<HHIQQ", data, 8)
    if major != 1:
        raise Unsupported("format major version %d" % major)
    if hsize != 72:
        raise Unsupported("header size %d" % hsize)
    if incompat & ~KNOWN_INCOMPAT:
        raise Unsupported("unsupported feature: unknown incompatible feature flags %#x"
                          % (incompat & ~KNOWN_INCOMPAT))
    # The salt, and whether every data and index payload of the file is sealed (§2.2).
    return struct.unpack_from("<Q", data, 48)[0], bool(incompat & INCOMPAT_SEALED_BLOCKS)


# ---- §3 frames and §8.2 scanning ---------------------------------------------------

def frame_header(data, pos, salt):
    """The header at pos as a tuple, or None when it is not a valid header (§3)."""
    h = data[pos:pos + 48]
    if len(h) < 48 or h[:4] != FRAME_MAGIC:
        return None
    if xxh3(h[:40]) != struct.unpack_from("<Q", h, 40)[0]:
        return None
    kind, flags, reserved, fsalt, seq, size, nrec, pck = struct.unpack_from("<BBHQQIIQ", h, 4)
    if fsalt != salt or flags or reserved or size > LIMITS["payload"]:
        return None
    return kind, seq, size, nrec, pck


def sealed_directory(payload):
    """§4.1: the entries (codec, raw_len, stored_len, checksum) and the directory's
    length, or None when the directory cannot be delimited. Only the varints' form (§1)
    and the bytes present count here; the rules of §4 are checked when the frame is
    decoded (Payload), as for an unsealed directory."""
    c = Cur(payload)
    try:
        n = c.varint()
        if 11 * n > c.left():  # every entry takes at least 11 bytes (§4.1, §10)
            return None
        entries = []
        for _ in range(n):
            codec = c.u8()
            raw, stored = c.varint(), c.varint()
            entries.append((codec, raw, stored, struct.unpack("<Q", c.take(8))[0]))
    except Corrupt:
        return None
    return entries, c.p


def sealed_check(payload, pck):
    """None when a sealed payload checks (§4.1, §8.2), else the reason of the damage."""
    d = sealed_directory(payload)
    if d is None:
        return "sealed block directory cannot be delimited"
    entries, dlen = d
    if xxh3(payload[:dlen]) != pck:
        return "sealed block directory checksum mismatch"
    if sum(e[2] for e in entries) != len(payload) - dlen:
        return None  # malformed (§4): no block is checked; Payload reports it
    pos = dlen
    for i, (_, _, stored, ck) in enumerate(entries):
        if xxh3(payload[pos:pos + stored]) != ck:
            return "block %d checksum mismatch" % i
        pos += stored
    return None


def scan(data, salt, sealed=False):
    """Yields ("frame", offset, kind, seq, payload) and ("damage"|"torn", offset, length, why)."""
    pos, last_seq, size = 72, None, len(data)
    while pos < size:
        if size - pos < 48:
            yield ("torn", pos, size - pos, "file ends inside a frame header")
            return
        h = frame_header(data, pos, salt)
        why = "not a frame header"
        if h is not None and pos + 48 + h[2] > size:
            h, why = None, "file ends inside a frame payload"
        if h is None:  # resync: the next valid header of this file, at any offset
            q = pos + 1
            while q + 48 <= size:
                q = data.find(FRAME_MAGIC, q)
                if q < 0 or q + 48 > size:
                    break
                if frame_header(data, q, salt) is not None:
                    yield ("damage", pos, q - pos, why)
                    pos = q
                    break
                q += 1
            else:
                q = -1
            if pos != q:
                yield ("torn", pos, size - pos, why)
                return
            continue
        kind, seq, psize, _nrec, pck = h
        payload = data[pos + 48:pos + 48 + psize]
        end = pos + 48 + psize
        # §8.2: in a sealed file every payload but a trailer's is sealed (§4.1).
        if not sealed or kind == 3:
            bad = None if xxh3(payload) == pck else "frame payload checksum mismatch"
        else:
            bad = sealed_check(payload, pck)
        if bad:
            yield ("damage", pos, end - pos, bad)
        elif last_seq is not None and seq <= last_seq:
            yield ("damage", pos, end - pos, "frame out of sequence")
        else:
            last_seq = seq
            yield ("frame", pos, kind, seq, payload)
        pos = end


# ---- §4 payload ------------------------------------------------------------------------

class Payload:
    def __init__(self, payload, sealed=False):
        c = Cur(payload)
        n = c.count(LIMITS["blocks"])
        entry_min = 11 if sealed else 3  # a sealed entry ends with a u64 checksum (§4.1)
        if n == 0 or entry_min * n > c.left():
            raise Corrupt("block count impossible for the payload size")
        self.dir = []
        for _ in range(n):
            codec = c.u8()
            raw, stored = c.count(LIMITS["block"]), c.count(LIMITS["payload"])
            if sealed:
                c.take(8)  # the block's checksum: checked by the scan (§8.2)
            if codec not in (0, 1):
                raise Unsupported("unknown block codec %d" % codec)
            if codec == 0 and raw != stored:
                raise Corrupt("raw block whose stored length differs from its raw length")
            self.dir.append((codec, raw, stored))
        if sum(r for _, r, _ in self.dir) > LIMITS["frame_raw"]:
            raise Corrupt("frame decodes to more than 256 MiB")
        if sum(s for _, _, s in self.dir) != c.left():
            raise Corrupt("block lengths do not add up to the payload size")
        self.stored, pos = [], c.p
        for _, _, s in self.dir:
            self.stored.append(payload[pos:pos + s])
            pos += s
        self.cache = {}

    def block(self, i):
        if i in self.cache:
            return self.cache[i]
        codec, raw, _ = self.dir[i]
        b = self.stored[i]
        if codec == 1:
            params = zstandard.get_frame_parameters(b)
            if params.content_size != raw:  # also catches "content size absent"
                raise Corrupt("zstd frame without content size equal to raw_len")
            d = zstandard.ZstdDecompressor().decompressobj()
            out = d.decompress(b)
            if not d.eof or d.unused_data or len(out) != raw:
                raise Corrupt("zstd block is not exactly one frame of raw_len bytes")
            b = out
        self.cache[i] = b
        return b


def block0(p):
    """Key table and record views of block 0 (§5)."""
    c = Cur(p.block(0))
    n = c.count(LIMITS["keys"])
    if n > c.left():
        raise Corrupt("key count larger than the bytes that follow")
    keys = [utf8(c.take(c.count(LIMITS["key"]))) for _ in range(n)]
    if any("\0" in k for k in keys):
        raise Corrupt("a key holds U+0000 (§1 Text)")
    records = []
    while c.left():
        t = c.u8()
        records.append((t, c.take(c.count(LIMITS["block"]))))
    return keys, records


# ---- §6 history records ---------------------------------------------------------------

def history(body, keys, p, owners, rec_no):
    """owners: block -> the record number that uses it, for this frame (§4)."""
    c = Cur(body)
    nrows = c.count(LIMITS["rows"])
    if nrows == 0 or nrows > c.left() // 2:
        raise Corrupt("history row count impossible")
    steps = [c.varint()]
    for _ in range(nrows - 1):
        steps.append(steps[-1] + c.varint())
        if steps[-1] >= 1 << 64:
            raise Corrupt("step overflows 64 bits")
    times = [wrap64(unzigzag(c.varint()))]
    for _ in range(nrows - 1):
        times.append(wrap64(times[-1] + unzigzag(c.varint())))
    ncols = c.varint()
    if ncols > c.left() // 3:
        raise Corrupt("history column count impossible")
    blen = (nrows + 7) // 8
    cols, seen = [], {}
    packed_end = {}  # §6.1: block -> where the next packed slice of this record starts
    whole = set()    # blocks owned by an unpacked column of this record
    for _ in range(ncols):
        k = c.varint()
        if k >= len(keys):
            raise Corrupt("history column names a key outside the key table")
        ctype, presence = c.u8(), c.u8()
        if ctype > 5:
            raise Unsupported("unknown history column type %d" % ctype)
        if presence & ~0x03:
            raise Corrupt("presence byte has bits 2..7 set")
        packed = bool(presence & 0x02)
        if packed and ctype == 0:
            raise Corrupt("packed null column")
        if presence & 0x01:
            bm = c.take(blen)
            if nrows % 8 and bm[-1] >> (nrows % 8):
                raise Corrupt("presence bitmap has bits set past the last row")
            present = [bool(bm[r >> 3] >> (r & 7) & 1) for r in range(nrows)]
        else:
            present = [True] * nrows
        blk, sl = None, None
        if ctype != 0:
            blk = c.varint()
            if blk == 0 or blk >= len(p.dir):
                raise Corrupt("history column names a block outside the frame")
            # §4: an unpacked column's block is named by no other column;
            # packed columns' blocks by columns of one record only.
            if blk in whole or (not packed and blk in packed_end):
                raise Corrupt("two history columns use block %d" % blk)
            if owners.setdefault(blk, rec_no) != rec_no:
                raise Corrupt("block %d is used by two records of the frame" % blk)
            if not packed:
                whole.add(blk)
        if packed:
            n = c.varint()
            start = packed_end.get(blk, 0)
            if start + n > p.dir[blk][1]:  # the block's raw_len (§4)
                raise Corrupt("packed column slice runs past the end of its block")
            packed_end[blk] = start + n
            sl = (start, start + n)
        used = seen.setdefault(k, [False] * nrows)
        for r in range(nrows):
            if present[r] and used[r]:
                raise Corrupt("two columns give one key a value in the same row")
            used[r] = used[r] or present[r]
        cols.append((k, ctype, present, blk, sl))
    if c.left():
        raise Corrupt("bytes left over after the history columns")
    for blk, end in packed_end.items():
        if end != p.dir[blk][1]:
            raise Corrupt("packed column slices do not fill block %d (%d of %d bytes)"
                          % (blk, end, p.dir[blk][1]))

    def col_bytes(blk, sl):
        if not blk:
            return b""
        b = p.block(blk)
        return b if sl is None else b[sl[0]:sl[1]]  # unpacked: the whole block (§6)
    values = [column(ctype, sum(present), col_bytes(blk, sl))
              for _, ctype, present, blk, sl in cols]
    rows = []
    pos = [0] * len(cols)
    for r in range(nrows):
        fields = {}
        for i, (k, _, present, _, _) in enumerate(cols):
            if present[r]:
                fields[keys[k]] = values[i][pos[i]]
                pos[i] += 1
        rows.append((steps[r], times[r], fields))
    return rows


def column(ctype, n, raw):
    if ctype == 0:
        return [None] * n
    if ctype == 3:
        if len(raw) != 8 * n:
            raise Corrupt("float column size mismatch")
        return [struct.unpack("<d", bytes(raw[j * n + i] for j in range(8)))[0] for i in range(n)]
    if ctype == 1:
        if len(raw) != (n + 7) // 8 or (n % 8 and raw[-1] >> (n % 8)):
            raise Corrupt("bool column size mismatch")
        return [bool(raw[i >> 3] >> (i & 7) & 1) for i in range(n)]
    c, out = Cur(raw), []
    prev = 0
    for _ in range(n):
        if ctype == 2:
            prev = wrap64(prev + unzigzag(c.varint()))
            out.append(prev)
        elif ctype == 4:
            out.append(utf8(c.take(c.count(LIMITS["string"]))))
        else:
            out.append(cbor_item(c, 0))
    if c.left():
        raise Corrupt("column block has bytes left over")
    return out


# ---- §8 reading -------------------------------------------------------------------

def records(data, tolerant=False):
    """Every record in file order: ("history"|"system", time, step, fields) or (name, time, None, body)."""
    salt, sealed = file_header(data)
    for item in scan(data, salt, sealed):
        if item[0] == "torn":
            return  # not yet written: never an error (§8.3)
        if item[0] == "damage":
            if tolerant:
                print("spec_reader: byte %d: %s (%d bytes skipped)" % (item[1], item[3], item[2]),
                      file=sys.stderr)
                continue
            raise Corrupt("byte %d: %s" % (item[1], item[3]))
        _, offset, kind, _seq, payload = item
        if kind in (2, 3) or (kind != 1 and kind & 0x80):
            continue  # index, trailer, unknown ignorable
        if kind != 1:
            raise Unsupported("byte %d: unknown required frame kind %d" % (offset, kind))
        try:
            out = list(frame_records(payload, sealed))
        except Corrupt as e:
            if not tolerant:
                raise Corrupt("byte %d: %s" % (offset, e))
            print("spec_reader: byte %d: %s (frame skipped)" % (offset, e), file=sys.stderr)
            continue
        except Unsupported as e:
            raise Unsupported("byte %d: %s" % (offset, e))
        yield from out


def frame_records(payload, sealed=False):
    p = Payload(payload, sealed)
    keys, recs = block0(p)
    owners = {}
    for rec_no, (t, body) in enumerate(recs):
        if t in (0x03, 0x8B):  # history, or system samples in the history layout
            for step, time, fields in history(body, keys, p, owners, rec_no):
                yield (REC_NAMES[t], time, step, fields)
        elif t in NOT_PRINTED:
            continue  # index (§5) and blob_chunk (§12.1) records
        elif t in REC_NAMES:
            b = cbor_body(body)
            time = b.get("t")  # not an int: the record has no time (§5.2)
            yield (REC_NAMES[t], time if type(time) is int else None, None, b)
        elif not t & 0x80:
            raise Unsupported("unknown required record type %#x" % t)


def run(data, tolerant=False):
    """Rows, config, summary and finish, as §8.7 derives them."""
    rows, config, metadata, auto, explicit, finish = [], {}, {}, {}, {}, None
    for name, time, step, x in records(data, tolerant):
        if name == "history":
            rows.append((step, time, x))
            auto.update(x)  # last value; keys keep their first place
        elif name in ("config", "metadata", "summary"):
            s = x.get("set")
            if isinstance(s, dict):  # a set that is not a map sets nothing (§5.2)
                {"config": config, "metadata": metadata, "summary": explicit}[name].update(s)
        elif name == "finish":
            if type(x.get("exit_code")) is int:  # else it does not end the run (§5.2)
                finish = x
        elif name == "resume":
            finish = None
    summary = dict(auto)
    summary.update(explicit)
    return rows, config, metadata, summary, finish


# ---- output ---------------------------------------------------------------------------

def jsonable(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    return v


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = [a for a in argv[1:] if a.startswith("--")]
    if len(args) != 1 or any(f not in ("--tolerant", "--records") for f in flags):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(args[0], "rb") as f:
        data = f.read()
    tolerant = "--tolerant" in flags
    out = sys.stdout
    try:
        if "--records" in flags:
            for name, time, step, x in records(data, tolerant):
                if step is not None:
                    o = {"type": name, "time_ns": time, "step": step, "fields": jsonable(x)}
                else:
                    o = {"type": name, "time_ns": time, "body": jsonable(x)}
                out.write(json.dumps(o, ensure_ascii=False) + "\n")
            return 0
        rows, config, metadata, summary, finish = run(data, tolerant)
    except (Corrupt, Unsupported) as e:
        print("spec_reader: %s: %s" % (args[0], e), file=sys.stderr)
        return 1
    for step, time, fields in rows:
        out.write(json.dumps({"step": step, "time": time, "values": jsonable(fields)},
                             ensure_ascii=False) + "\n")
    for name, v in (("config", config), ("metadata", metadata), ("summary", summary),
                    ("finish", finish)):
        out.write(json.dumps({name: jsonable(v)}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
