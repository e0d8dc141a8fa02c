#!/usr/bin/python3
"""gen_schema.py DESCRIPTOR_SET OUTDIR — writes the test decoder's schema.

The input is a FileDescriptorSet that protoc made from W&B's published
wandb/proto/wandb_internal.proto, wandb_base.proto and wandb_telemetry.proto
(protoc -I. --include_imports --descriptor_set_out=ds.pb
wandb/proto/wandb_internal.proto, with the two google/protobuf imports
resolvable). Only the facts are written out: message, enum and field
names, field numbers, types, labels, oneofs, maps and JSON names (the
JSON form is wandb-metadata.json's); no comments, other options or
services. One departure: google.protobuf.Timestamp and Empty become
wandb_internal.Timestamp and Empty with the same fields (the same bytes on
the wire), so that protoc needs no well-known-type sources.
"""
import os
import sys

from google.protobuf import descriptor_pb2 as d

T = d.FieldDescriptorProto
SCALAR = {T.TYPE_DOUBLE: "double", T.TYPE_FLOAT: "float", T.TYPE_INT64: "int64",
          T.TYPE_UINT64: "uint64", T.TYPE_INT32: "int32", T.TYPE_FIXED64: "fixed64",
          T.TYPE_FIXED32: "fixed32", T.TYPE_BOOL: "bool", T.TYPE_STRING: "string",
          T.TYPE_BYTES: "bytes", T.TYPE_UINT32: "uint32", T.TYPE_SFIXED32: "sfixed32",
          T.TYPE_SFIXED64: "sfixed64", T.TYPE_SINT32: "sint32", T.TYPE_SINT64: "sint64"}
RENAME = {".google.protobuf.Timestamp": ".wandb_internal.Timestamp",
          ".google.protobuf.Empty": ".wandb_internal.Empty"}


def camel(name):
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def opts(f):
    """json_name where W&B gave one (wandb-metadata.json is the JSON form)."""
    return ' [json_name = "%s"]' % f.json_name if f.json_name and f.json_name != camel(f.name) else ""


def type_of(f, maps):
    if f.type in SCALAR:
        return SCALAR[f.type]
    return RENAME.get(f.type_name, f.type_name)


def message(m, ind, out, scope):
    maps = {scope + "." + n.name: n for n in m.nested_type if n.options.map_entry}
    out.append("%smessage %s {" % (ind, m.name))
    for e in m.enum_type:
        enum(e, ind + "  ", out)
    for n in m.nested_type:
        if not n.options.map_entry:
            message(n, ind + "  ", out, scope + "." + n.name)
    real = [o for i, o in enumerate(m.oneof_decl)
            if not any(f.HasField("oneof_index") and f.oneof_index == i and f.proto3_optional
                       for f in m.field)]
    done = set()
    for f in m.field:
        if f.HasField("oneof_index") and not f.proto3_optional:
            i = f.oneof_index
            if i in done:
                continue
            done.add(i)
            out.append("%s  oneof %s {" % (ind, m.oneof_decl[i].name))
            for g in m.field:
                if g.HasField("oneof_index") and g.oneof_index == i:
                    out.append("%s    %s %s = %d%s;" % (ind, type_of(g, maps), g.name, g.number, opts(g)))
            out.append("%s  }" % ind)
            continue
        if f.type_name in maps:
            k, v = maps[f.type_name].field
            out.append("%s  map<%s, %s> %s = %d;" % (ind, type_of(k, maps), type_of(v, maps),
                                                      f.name, f.number))
            continue
        label = "repeated " if f.label == T.LABEL_REPEATED else \
                "optional " if f.proto3_optional else ""
        out.append("%s  %s%s %s = %d%s;" % (ind, label, type_of(f, maps), f.name, f.number, opts(f)))
    for r in m.reserved_range:
        out.append("%s  reserved %s;" % (ind, "%d to %d" % (r.start, r.end - 1)
                                         if r.end - 1 > r.start else str(r.start)))
    out.append("%s}" % ind)


def enum(e, ind, out):
    out.append("%senum %s {" % (ind, e.name))
    for v in e.value:
        out.append("%s  %s = %d;" % (ind, v.name, v.number))
    out.append("%s}" % ind)


def main():
    fds = d.FileDescriptorSet()
    fds.ParseFromString(open(sys.argv[1], "rb").read())
    for fd in fds.file:
        if not fd.name.startswith("wandb/proto/"):
            continue
        name = os.path.basename(fd.name)
        out = ["// %s: the messages of W&B's %s (field names, numbers and types;" % (name, fd.name),
               "// written by gen_schema.py from W&B's published schema, for the tests'",
               "// independent decoder).",
               'syntax = "proto3";', "", "package %s;" % fd.package, ""]
        for dep in fd.dependency:
            if dep.startswith("wandb/proto/"):
                out.append('import "%s";' % os.path.basename(dep))
        out.append("")
        if name == "wandb_base.proto":
            out += ["message Timestamp {", "  int64 seconds = 1;", "  int32 nanos = 2;", "}",
                    "message Empty {", "}"]
        for e in fd.enum_type:
            enum(e, "", out)
        for m in fd.message_type:
            message(m, "", out, "." + fd.package + "." + m.name)
        open(os.path.join(sys.argv[2], name), "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
