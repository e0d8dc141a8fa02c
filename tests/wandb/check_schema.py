#!/usr/bin/python3
"""check_schema.py SUBSET_DS FULL_DS — the encoder's schema against W&B's.

The exporter encodes with lib/export/wandb/wandb_subset.proto (protobuf-c
stays small); the tests decode with tests/wandb/schema/ (every message of
W&B's published schema). Both as FileDescriptorSets (protoc
--descriptor_set_out --include_imports): every message, field and enum
value of the subset must be in the full schema with the same number, type
and label, so that what the encoder writes is what W&B's reader reads.
"""
import sys

from google.protobuf import descriptor_pb2 as d


def index(path):
    fds = d.FileDescriptorSet()
    fds.ParseFromString(open(path, "rb").read())
    msgs, enums = {}, {}

    def walk(m, scope):
        name = scope + "." + m.name
        msgs[name] = {f.name: f for f in m.field}
        for e in m.enum_type:
            enums[name + "." + e.name] = {v.name: v.number for v in e.value}
        for n in m.nested_type:
            walk(n, name)

    for f in fds.file:
        for m in f.message_type:
            walk(m, "." + f.package)
        for e in f.enum_type:
            enums["." + f.package + "." + e.name] = {v.name: v.number for v in e.value}
    return msgs, enums


def main():
    sub, sub_enums = index(sys.argv[1])
    full, full_enums = index(sys.argv[2])
    bad = []
    for name, fields in sub.items():
        if name not in full:
            bad.append("%s: not in W&B's schema" % name)
            continue
        for fname, f in fields.items():
            g = full[name].get(fname)
            if g is None:
                bad.append("%s.%s: not in W&B's schema" % (name, fname))
            elif (f.number, f.type, f.label, f.type_name) != (g.number, g.type, g.label, g.type_name):
                bad.append("%s.%s: number/type/label %r, W&B's %r" % (
                    name, fname, (f.number, f.type, f.label, f.type_name),
                    (g.number, g.type, g.label, g.type_name)))
    for name, values in sub_enums.items():
        for v, n in values.items():
            if full_enums.get(name, {}).get(v) != n:
                bad.append("%s.%s = %d: not so in W&B's schema" % (name, v, n))
    for b in bad:
        print("FAIL:", b, file=sys.stderr)
    print("check_schema: %d messages of the subset checked, %d differences" % (len(sub), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
