"""The ZADS-TS Python filter host: one worker process started and supervised by PythonJudge
(src/filter/python/python-judge.ts).

Usage: host.py --timeout-ms MS --hang-ms MS [--] FILTER.py...

It loads each filter module (each defines ``alert_filter(alert) -> bool``), reports the filters' names and
versions, then answers batches of raw alert messages: each message is an Avro object container file,
decoded with fastavro using its own embedded writer schema; each alert is given, as the dictionary
fastavro makes of it, to each filter. The protocol (framed, little-endian, on the process's original
stdin/stdout) is described in protocol.ts. print() in a filter goes to stderr, never into the protocol.
"""

import ast
import fcntl
import importlib.util
import inspect
import io
import json
import math
import os
import re
import signal
import struct
import sys
import threading
import time
import traceback
import zlib

import fastavro
from fastavro import parse_schema, schemaless_reader

NAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAGIC = b"Obj\x01"
SYNC_SIZE = 16
MAX_INFLATED_BLOCK_BYTES = 64 * 1024 * 1024
CANDIDATE_NUMBERS = ("jd", "ra", "dec", "fid")

PASSED, REJECTED, ERROR, TIMEOUT, SKIPPED = 0, 1, 2, 3, 4

# Frames to the runner: u32 length of what follows, u8 type, payload.
READY, FAILED, VERDICTS, HUNG, BEAT = b"R", b"F", b"V", b"H", b"B"


class Undecodable(Exception):
    """The message is no alert: reported with one of the codec's error codes."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class LoadError(Exception):
    def __init__(self, file, line, message):
        super().__init__(message)
        self.file, self.line, self.message = file, line, message


# --- the protocol channel: the original fds 0 and 1, taken away from the filters -----------------------
def take_channel():
    """Keeps fds 0/1 for the protocol and gives the filters /dev/null as stdin and stderr as stdout."""
    for fd in (0, 1):
        try:
            # Bigger pipes (Linux F_SETPIPE_SZ, up to pipe-max-size): a batch crosses in fewer wake-ups.
            fcntl.fcntl(fd, 1031, 1 << 20)
        except OSError:
            pass
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, "r")
    sys.stdout = sys.stderr
    return proto_in, proto_out


class Channel:
    def __init__(self, fin, fout):
        self.fin, self.fout = fin, fout
        self.lock = threading.Lock()

    def send(self, kind, payload=b""):
        frame = struct.pack("<I", len(payload) + 1) + kind + payload
        with self.lock:
            view = memoryview(frame)
            while view:
                n = self.fout.write(view)
                view = view[n:]

    def read_exactly(self, n):
        # Into one buffer: a batch of alerts is megabytes, arriving a pipe-full at a time.
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            k = self.fin.readinto(view[got:])
            if not k:
                return None
            got += k
        return buf

    def receive(self):
        head = self.read_exactly(4)
        if head is None:
            return None
        (size,) = struct.unpack("<I", head)
        return self.read_exactly(size)


# --- loading the filters -------------------------------------------------------------------------------
def binding_line(path, name):
    """The line where the module binds `name` at top level (1 when it cannot be told)."""
    try:
        tree = ast.parse(open(path, "rb").read(), path)
    except (SyntaxError, ValueError, OSError):
        return 1
    line = 1
    for node in tree.body:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            targets = [(a.asname or a.name).split(".")[0] for a in node.names]
        if name in targets:
            line = node.lineno
    return line


def frame_in(tb, path):
    """The innermost traceback frame in `path`, else the innermost frame."""
    frames = traceback.extract_tb(tb)
    mine = [f for f in frames if os.path.abspath(f.filename) == path]
    return (mine or frames or [None])[-1]


def load_filter(path, index):
    stem = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location("zads_filter_%d_%s" % (index, re.sub(r"\W", "_", stem)), path)
    if spec is None or spec.loader is None:
        raise LoadError(path, 1, "is not a Python module (.py)")
    module = importlib.util.module_from_spec(spec)
    # As `python my_filter.py` would: the module's folder is on the path, so it can import its neighbours.
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        where = os.path.abspath(e.filename) if e.filename else path
        raise LoadError(where, e.lineno or 1, "%s: %s" % (type(e).__name__, e.msg))
    except BaseException as e:  # an import error, or anything the module raised (SystemExit too) while loading
        f = frame_in(e.__traceback__, path)
        line = f.lineno if f is not None and os.path.abspath(f.filename) == path else 1
        raise LoadError(path, line or 1, "loading it raised %s: %s" % (type(e).__name__, e))
    fn = getattr(module, "alert_filter", None)
    if fn is None:
        raise LoadError(path, 1, "defines no alert_filter(alert) function: a filter module defines `def alert_filter(alert) -> bool`")
    if not callable(fn):
        raise LoadError(path, binding_line(path, "alert_filter"), "alert_filter is a %s, not a function: define `def alert_filter(alert) -> bool`" % type(fn).__name__)
    try:
        inspect.signature(fn).bind(None)
    except TypeError:
        line = getattr(getattr(fn, "__code__", None), "co_firstlineno", None) or binding_line(path, "alert_filter")
        raise LoadError(path, line, "alert_filter must take exactly one argument, the alert")
    except ValueError:
        pass  # a builtin without a signature: tried on the first alert
    name = getattr(module, "name", re.sub(r"[^A-Za-z0-9._-]", "-", stem)[:64] or "filter")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise LoadError(path, binding_line(path, "name"), "`name` must be 1-64 of A-Z, a-z, 0-9, \".\", \"_\", \"-\" (it names the output topic), found %r" % (name,))
    version = getattr(module, "version", getattr(module, "__version__", "0"))
    if not isinstance(version, str) or not version.strip():
        line = binding_line(path, "version" if hasattr(module, "version") else "__version__")
        raise LoadError(path, line, "`version` must be a non-empty string, found %r" % (version,))
    return {"fn": fn, "name": name, "version": version, "path": path}


# --- decoding: the container file, strictly, as src/alert/container.ts reads it --------------------------
def read_long(buf, pos, what):
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise Undecodable("ALERT_TRUNCATED", "data ends inside the %s at byte %d" % (what, pos))
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 63:
            raise Undecodable("ALERT_CORRUPT", "the %s at byte %d is not a valid Avro long" % (what, pos))
    return (result >> 1) ^ -(result & 1), pos


def read_bytes(buf, pos, what):
    n, pos = read_long(buf, pos, what + " length")
    if n < 0:
        raise Undecodable("ALERT_CORRUPT", "the %s at byte %d has a negative length" % (what, pos))
    if pos + n > len(buf):
        raise Undecodable("ALERT_TRUNCATED", "container header runs past the end of the data (%d bytes)" % len(buf))
    return buf[pos : pos + n], pos + n


class Schemas:
    """Parsed writer schemas by their text: every ZTF message carries the same ~23 KB schema."""

    def __init__(self):
        self.by_text = {}
        self.last_header = None

    def header(self, buf):
        if buf[:4] != MAGIC:
            raise Undecodable("ALERT_NOT_CONTAINER", "not an Avro container file: starts with %r, expected \"Obj\\x01\"" % bytes(buf[:4]))
        last = self.last_header
        # bytes == bytes is a memcmp; a memoryview compared with bytes goes item by item.
        if last is not None and bytes(buf[: last[0]]) == last[1]:
            return last[2], last[3], last[0]
        pos, meta = 4, {}
        while True:
            count, pos = read_long(buf, pos, "header map count")
            if count == 0:
                break
            if count < 0:
                _, pos = read_long(buf, pos, "header map size")
                count = -count
            for _ in range(count):
                key, pos = read_bytes(buf, pos, "header key")
                value, pos = read_bytes(buf, pos, "header value")
                meta[bytes(key).decode("utf-8", "replace")] = bytes(value)
        if pos + SYNC_SIZE > len(buf):
            raise Undecodable("ALERT_TRUNCATED", "container header runs past the end of the data (%d bytes)" % len(buf))
        text = meta.get("avro.schema")
        if text is None:
            raise Undecodable("ALERT_NOT_CONTAINER", "container header has no avro.schema")
        codec = (meta.get("avro.codec") or b"null").decode("latin1") or "null"
        if codec not in ("null", "deflate"):
            raise Undecodable("ALERT_CODEC_UNSUPPORTED", 'container codec "%s" is not supported (null and deflate are)' % codec)
        schema = self.by_text.get(text)
        if schema is None:
            try:
                # Parsed with fastavro's hint (the default): schemaless_reader then takes it as parsed, not
                # parsing it again on every record (3.5x slower).
                schema = parse_schema(json.loads(text))
            except Exception as e:  # noqa: BLE001 - any failure to parse is a bad schema
                raise Undecodable("SCHEMA_INVALID", "the embedded writer schema does not parse: %s" % e)
            if len(self.by_text) > 64:
                self.by_text.clear()
            self.by_text[text] = schema
        self.last_header = (pos, bytes(buf[:pos]), schema, codec)
        return schema, codec, pos

    def records(self, buf):
        """[(reader, position)] of every record; decoding is done by `decode` (once per filter)."""
        schema, codec, pos = self.header(buf)
        sync = buf[pos : pos + SYNC_SIZE]
        pos += SYNC_SIZE
        blocks = []
        while pos < len(buf):
            start = pos
            count, pos = read_long(buf, pos, "block record count")
            size, pos = read_long(buf, pos, "block byte size")
            if count < 0 or size < 0:
                raise Undecodable("ALERT_CORRUPT", "block at byte %d has a negative count or size" % start)
            end = pos + size
            if end + SYNC_SIZE > len(buf):
                raise Undecodable("ALERT_TRUNCATED", "block at byte %d announces %d bytes and a sync marker, but the data ends at byte %d" % (start, size, len(buf)))
            if buf[end : end + SYNC_SIZE] != sync:
                raise Undecodable("ALERT_CORRUPT", "block at byte %d does not end with the file's sync marker" % start)
            data = buf[pos:end]
            if codec == "deflate":
                try:
                    d = zlib.decompressobj(-15)
                    data = d.decompress(bytes(data), MAX_INFLATED_BLOCK_BYTES)
                    if d.unconsumed_tail:
                        raise Undecodable("ALERT_CORRUPT", "block at byte %d inflates to more than %d bytes" % (start, MAX_INFLATED_BLOCK_BYTES))
                except zlib.error:
                    raise Undecodable("ALERT_CORRUPT", "block at byte %d does not inflate" % start)
            blocks.append((bytes(data), count))
            pos = end + SYNC_SIZE
        out = []
        for data, count in blocks:
            stream = io.BytesIO(data)
            for i in range(count):
                at = stream.tell()
                try:
                    record = schemaless_reader(stream, schema, None)
                except Exception as e:  # noqa: BLE001 - fastavro raises many kinds on damage
                    raise Undecodable("ALERT_CORRUPT", "record %d does not decode with its writer schema: %s: %s" % (i, type(e).__name__, e))
                if stream.tell() > len(data):
                    raise Undecodable("ALERT_CORRUPT", "record %d runs past the end of its block" % i)
                check_alert(record)
                out.append((record, data, at))
            left = len(data) - stream.tell()
            if left != 0:
                raise Undecodable("ALERT_CORRUPT", "block holds %d bytes more than its %d record(s) use: the data does not match its writer schema" % (left, count))
        if not out:
            raise Undecodable("ALERT_NOT_ZTF", "message is an Avro container file with no alert in it")
        return schema, out


def check_alert(r):
    if not isinstance(r, dict) or not isinstance(r.get("objectId"), str) or type(r.get("candid")) is not int or not isinstance(r.get("candidate"), dict):
        raise Undecodable("ALERT_NOT_ZTF", "record is not a ZTF alert (needs objectId, candid and candidate)")
    c = r["candidate"]
    for k in CANDIDATE_NUMBERS:
        v = c.get(k)
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and (k != "fid" or float(v).is_integer())
        if not ok:
            raise Undecodable("ALERT_NOT_ZTF", "record is not a ZTF alert: candidate.%s is %r, not a finite number" % (k, v))


# --- judging ---------------------------------------------------------------------------------------------
class Current:
    """What the main thread is doing, for the watchdog thread: (item id, filter index, start) or None."""

    call = None
    busy = False


def describe_error(e, path):
    f = frame_in(e.__traceback__, path)
    where = " (%s:%d)" % (os.path.basename(f.filename), f.lineno) if f is not None else ""
    return ("%s: %s" % (type(e).__name__, e))[:2000] + where


def judge_item(filters, schemas, item_id, buf, skip, candid, timeout_s):
    """bytes of one item's answer: status 0 + alerts and outcomes, or status 1 + code and message."""
    try:
        schema, records = schemas.records(buf)
    except Undecodable as e:
        code, message = e.code.encode("ascii"), str(e).encode("utf-8", "replace")[:4000]
        return struct.pack("<IBB", item_id, 1, len(code)) + code + struct.pack("<I", len(message)) + message
    if candid is not None:
        only = [r for r in records if r[0]["candid"] == candid]
        if only:
            records = only
    parts = [struct.pack("<IBI", item_id, 0, len(records))]
    for record, data, at in records:
        oid = record["objectId"].encode("utf-8")
        parts.append(struct.pack("<qdH", record["candid"], float(record["candidate"]["jd"]), len(oid)) + oid)
        for i, f in enumerate(filters):
            if skip & (1 << i):
                parts.append(struct.pack("<Bf", SKIPPED, 0.0))
                continue
            # Each filter after the first gets its own decode: none can change the alert another sees.
            alert = record if i == 0 else schemaless_reader(io.BytesIO(data[at:]), schema, None)
            error = None
            started = time.monotonic()
            Current.call = (item_id, i, started)
            try:
                answer = f["fn"](alert)
            except BaseException as e:  # SystemExit and KeyboardInterrupt in a filter fail its call too
                answer, error = None, describe_error(e, f["path"])
            finally:
                Current.call = None
            busy = time.monotonic() - started
            if error is not None:
                outcome = ERROR
            elif busy > timeout_s:
                outcome = TIMEOUT
            elif answer is True:
                outcome = PASSED
            elif answer is False:
                outcome = REJECTED
            else:
                outcome, error = ERROR, "returned %s, not a bool" % ("None" if answer is None else type(answer).__name__)
            parts.append(struct.pack("<Bf", outcome, busy * 1000.0))
            if outcome == ERROR:
                msg = error.encode("utf-8", "replace")
                parts.append(struct.pack("<I", len(msg)) + msg)
    return b"".join(parts)


def watchdog(channel, hang_s):
    """Ends the process when a call runs past hang_s (saying which), and beats while a batch is judged."""
    period = max(0.005, min(0.25, hang_s / 4))
    last_beat = time.monotonic()
    while True:
        time.sleep(period)
        now = time.monotonic()
        call = Current.call
        try:
            if call is not None and now - call[2] > hang_s:
                channel.send(HUNG, struct.pack("<IId", call[0], call[1], (now - call[2]) * 1000.0))
                os._exit(75)
            if Current.busy and now - last_beat >= period * 2:
                channel.send(BEAT)
                last_beat = now
        except OSError:
            os._exit(74)  # the runner is gone (its end of the pipe closed): nobody waits for us


def main(argv):
    timeout_ms, hang_ms, paths = 1000.0, 2000.0, []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--timeout-ms":
            timeout_ms = float(args.pop(0))
        elif a == "--hang-ms":
            hang_ms = float(args.pop(0))
        elif a == "--":
            paths.extend(args)
            args = []
        else:
            paths.append(a)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner stops us by closing stdin, not Ctrl-C
    proto_in, proto_out = take_channel()
    channel = Channel(proto_in, proto_out)
    filters = []
    try:
        if len(paths) > 32:
            raise LoadError(paths[32], 1, "one Python host runs at most 32 filters")
        for i, p in enumerate(paths):
            filters.append(load_filter(os.path.abspath(p), i))
    except LoadError as e:
        channel.send(FAILED, json.dumps({"file": e.file, "line": e.line, "message": e.message}).encode("utf-8"))
        return 2
    ready = {
        "filters": [{"name": f["name"], "version": f["version"]} for f in filters],
        "python": sys.version.split()[0],
        "fastavro": fastavro.__version__,
        "pid": os.getpid(),
    }
    channel.send(READY, json.dumps(ready).encode("utf-8"))
    threading.Thread(target=watchdog, args=(channel, hang_ms / 1000.0), daemon=True).start()
    schemas = Schemas()
    timeout_s = timeout_ms / 1000.0
    while True:
        frame = channel.receive()
        if frame is None:
            return 0  # the runner closed our stdin: done
        if frame[0] != 0x4A:  # "J"
            sys.stderr.write("zads python host: unknown frame %r\n" % bytes(frame[:1]))
            return 3
        batch_id, count = struct.unpack_from("<II", frame, 1)
        pos = 9
        answers = [struct.pack("<II", batch_id, count)]
        Current.busy = True
        for _ in range(count):
            item_id, skip, has_candid, candid, size = struct.unpack_from("<IIBqI", frame, pos)
            pos += 21
            buf = memoryview(frame)[pos : pos + size]
            pos += size
            answers.append(judge_item(filters, schemas, item_id, buf, skip, candid if has_candid else None, timeout_s))
        Current.busy = False
        channel.send(VERDICTS, b"".join(answers))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
