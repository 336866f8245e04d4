"""Writes RDB files by hand, for the encodings redis-server 7.0.15 no longer
writes but still reads (Redis 6's ziplists, quicklists of ziplists, the
first stream format, old sorted sets) and those only Redis 7.2 writes
(listpack sets, streams v3): the tests load them in Runnel and, where
redis-server 7.0 reads them too, compare the two."""
import struct


def crc64(data):
    """CRC-64/Jones, reflected, as Redis computes it."""
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def length(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def string(b):
    b = b if isinstance(b, bytes) else str(b).encode()
    return length(len(b)) + b


def as_bytes(v):
    return v if isinstance(v, bytes) else str(v).encode()


def ziplist(items):
    body, prevlen, last = b"", 0, 10
    for v in items:
        last = 10 + len(body)
        entry = bytes([prevlen]) if prevlen < 254 else b"\xfe" + struct.pack("<I", prevlen)
        if isinstance(v, int):
            if 0 <= v <= 12:
                entry += bytes([0xF1 + v])
            elif -128 <= v <= 127:
                entry += b"\xfe" + struct.pack("<b", v)
            elif -32768 <= v <= 32767:
                entry += b"\xc0" + struct.pack("<h", v)
            elif -(1 << 23) <= v < (1 << 23):
                entry += b"\xf0" + struct.pack("<i", v)[:3]
            elif -(1 << 31) <= v < (1 << 31):
                entry += b"\xd0" + struct.pack("<i", v)
            else:
                entry += b"\xe0" + struct.pack("<q", v)
        else:
            n = len(v)
            if n < 64:
                entry += bytes([n]) + v
            elif n < 16384:
                entry += bytes([0x40 | (n >> 8), n & 0xFF]) + v
            else:
                entry += b"\x80" + struct.pack(">I", n) + v
        prevlen = len(entry)
        body += entry
    total = 10 + len(body) + 1
    return struct.pack("<IIH", total, last, min(len(items), 65535)) + body + b"\xff"


def _backlen(n):
    out = []
    while True:
        out.append(n & 127)
        n >>= 7
        if not n:
            break
    out.reverse()
    return bytes([out[0]] + [b | 128 for b in out[1:]])


def listpack(items):
    body = b""
    for v in items:
        if isinstance(v, int):
            if 0 <= v <= 127:
                e = bytes([v])
            elif -4096 <= v <= 4095:
                u = v & 0x1FFF
                e = bytes([0xC0 | (u >> 8), u & 0xFF])
            elif -32768 <= v <= 32767:
                e = b"\xf1" + struct.pack("<h", v)
            elif -(1 << 31) <= v < (1 << 31):
                e = b"\xf3" + struct.pack("<i", v)
            else:
                e = b"\xf4" + struct.pack("<q", v)
        else:
            n = len(v)
            if n < 64:
                e = bytes([0x80 | n]) + v
            elif n < 4096:
                e = bytes([0xE0 | (n >> 8), n & 0xFF]) + v
            else:
                e = b"\xf0" + struct.pack("<I", n) + v
        body += e + _backlen(len(e))
    return struct.pack("<IH", 6 + len(body) + 1, min(len(items), 65535)) + body + b"\xff"


def intset(values):
    values = sorted(values)
    w = 2 if all(-32768 <= v <= 32767 for v in values) else 4 if all(-(1 << 31) <= v < (1 << 31) for v in values) else 8
    fmt = {2: "<h", 4: "<i", 8: "<q"}[w]
    return struct.pack("<II", w, len(values)) + b"".join(struct.pack(fmt, v) for v in values)


def stream_node(master, entries):
    """A stream listpack: entries are (ms, seq, {field: value}, deleted)."""
    fields = list(entries[0][2].keys())
    live = sum(1 for e in entries if not e[3])
    items = [live, len(entries) - live, len(fields), *fields, 0]
    for ms, seq, kv, deleted in entries:
        same = list(kv.keys()) == fields
        flags = (1 if deleted else 0) | (2 if same else 0)
        items += [flags, ms - master[0], seq - master[1]]
        if same:
            items += list(kv.values())
            items.append(len(kv) + 3)
        else:
            items.append(len(kv))
            for f, v in kv.items():
                items += [f, v]
            items.append(len(kv) * 2 + 4)
    return string(struct.pack(">QQ", *master)) + string(listpack(items))


def stream(version, entries, last, groups, first=(0, 0), max_deleted=(0, 0), added=None):
    """A stream value of format v1 (type 15), v2 (19) or v3 (21). groups:
    (name, last_id, entries_read, [(id, time, count)], [(name, seen, active, [ids])])."""
    out = length(1) + stream_node((entries[0][0], entries[0][1]), entries)
    out += length(sum(1 for e in entries if not e[3])) + length(last[0]) + length(last[1])
    if version >= 2:
        out += length(first[0]) + length(first[1]) + length(max_deleted[0]) + length(max_deleted[1])
        out += length(added if added is not None else len(entries))
    out += length(len(groups))
    for name, gid, entries_read, pel, consumers in groups:
        out += string(name) + length(gid[0]) + length(gid[1])
        if version >= 2:
            out += length(entries_read)
        out += length(len(pel))
        for pid, t, count in pel:
            out += struct.pack(">QQ", *pid) + struct.pack("<Q", t) + length(count)
        out += length(len(consumers))
        for cname, seen, active, ids in consumers:
            out += string(cname) + struct.pack("<Q", seen)
            if version >= 3:
                out += struct.pack("<Q", active)
            out += length(len(ids)) + b"".join(struct.pack(">QQ", *i) for i in ids)
    return out


def rdb_file(version, records):
    """records: (type, key, value bytes[, expire (('s'|'ms'), when)])."""
    body = b"REDIS%04d" % version + b"\xfa" + string(b"redis-ver") + string(b"6.2.0") + b"\xfe\x00"
    for rec in records:
        t, key, value = rec[:3]
        if len(rec) > 3:
            unit, when = rec[3]
            body += b"\xfd" + struct.pack("<I", when) if unit == "s" else b"\xfc" + struct.pack("<Q", when)
        body += bytes([t]) + string(key) + value
    body += b"\xff"
    return body + struct.pack("<Q", crc64(body))
