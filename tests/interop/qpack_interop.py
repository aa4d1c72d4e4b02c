#!/usr/bin/env python3
"""QPACK interop checks for the h3q-qpack tool (the C program on h3q's QPACK C API).

    qpack_interop.py decode      --tool PATH --qifs DIR --work DIR
    qpack_interop.py roundtrip   --tool PATH --qifs DIR --work DIR   (needs pylsqpack)
    qpack_interop.py compression --tool PATH --qifs DIR --work DIR

decode:      every file of encoded/qpack-05 (six other encoders) decodes to exactly its QIF,
             lists and fields in order; the malformed files in encoded/errors are rejected
             (all but err9 and err10, which are valid under RFC 9204 and must decode).
roundtrip:   our encoder's output for every QIF at table 0/256/4096 x blocked 0/100 x
             ack on/off decodes back exactly with our decoder and with pylsqpack (ls-qpack).
compression: prints total encoded bytes for fb-req and fb-resp at 4096/100, ours next to
             the six other implementations'.

Ends with a line "N passed, N failed"; exits 1 on any failure. Exits 77 (CTest's
SKIP_RETURN_CODE) after a line "SKIPPED: <what is missing and how to get it>" when the
corpus is not at --qifs (nothing runs), or, for roundtrip, when pylsqpack is not importable
(h3q's own encode/decode checks still run; a failure among them still exits 1).
"""

import argparse
import os
import shutil
import struct
import subprocess
import sys

IMPLEMENTATIONS = ["f5", "ls-qpack", "nghttp3", "proxygen", "qthingey", "quinn"]
SKIP_EXIT = 77  # CTest's SKIP_RETURN_CODE for these tests
VALID_ERROR_FILES = {"err9", "err10"}


def parse_qif(text):
    """A QIF as a list of field lists, each a list of (name, value) byte pairs."""
    lists, current = [], []
    for line in text.split(b"\n"):
        line = line.rstrip(b"\r")
        if line.startswith(b"#"):
            continue
        if not line:
            if current:
                lists.append(current)
                current = []
            continue
        name, _, value = line.partition(b"\t")
        current.append((name, value))
    if current:
        lists.append(current)
    return lists


def read_blocks(data):
    """The (stream id, payload) blocks of an encoded file."""
    blocks, offset = [], 0
    while offset < len(data):
        stream_id, length = struct.unpack_from(">QI", data, offset)
        offset += 12
        blocks.append((stream_id, data[offset:offset + length]))
        offset += length
    return blocks


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = None  # what is missing and how to install it, when checks were skipped

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        if self.failed == 0 and self.skipped:
            print(f"SKIPPED: {self.skipped}")
            return SKIP_EXIT
        return 0 if self.failed == 0 and self.passed > 0 else 1


def run_tool(tool, *args):
    return subprocess.run([tool, *args], capture_output=True, timeout=120)


def qif_path(qifs, name):
    return os.path.join(qifs, "qifs", name + ".qif")


def expected_lists(qifs, name):
    with open(qif_path(qifs, name), "rb") as f:
        return parse_qif(f.read())


def decode_with_tool(tool, encoded_path, out_path):
    proc = run_tool(tool, "decode", encoded_path, out_path)
    if proc.returncode != 0:
        return None, proc.stderr.decode(errors="replace").strip()
    with open(out_path, "rb") as f:
        return parse_qif(f.read()), ""


def cmd_decode(args, results):
    root = os.path.join(args.qifs, "encoded", "qpack-05")
    counts = {}
    for impl in IMPLEMENTATIONS:
        directory = os.path.join(root, impl)
        for file_name in sorted(os.listdir(directory)):
            name = file_name.split(".out.")[0]
            out_path = os.path.join(args.work, f"{impl}-{file_name}.qif")
            got, error = decode_with_tool(args.tool, os.path.join(directory, file_name), out_path)
            ok = got is not None and got == expected_lists(args.qifs, name)
            results.check(ok, f"decode {impl}/{file_name} {error}")
            counts[impl] = counts.get(impl, 0) + 1
    print("decoded: " + ", ".join(f"{impl} {n}" for impl, n in counts.items())
          + f" ({sum(counts.values())} files)")

    errors_dir = os.path.join(args.qifs, "encoded", "errors")
    for file_name in sorted(os.listdir(errors_dir)):
        # The error files carry no settings in their names: allow a generous decoder.
        renamed = os.path.join(args.work, f"{file_name}.out.4096.100.0")
        shutil.copyfile(os.path.join(errors_dir, file_name), renamed)
        proc = run_tool(args.tool, "decode", renamed, renamed + ".qif")
        message = proc.stderr.decode(errors="replace").strip()
        if file_name in VALID_ERROR_FILES:
            results.check(proc.returncode == 0, f"{file_name} must decode: {message}")
        else:
            results.check(proc.returncode == 1 and "H3Q_ERR_PROTOCOL" in message,
                          f"{file_name} must be rejected as a protocol error: {message}")
            print(f"  {file_name}: rejected: {message.split(': ', 2)[-1]}")


def have_pylsqpack():
    try:
        import pylsqpack  # noqa: F401
    except ImportError:
        return False
    return True


def pylsqpack_decode(data, table, blocked):
    import pylsqpack

    decoder = pylsqpack.Decoder(table, blocked)
    decoded = {}
    for stream_id, payload in read_blocks(data):
        if stream_id == 0:
            for unblocked in decoder.feed_encoder(payload):
                decoded[unblocked] = decoder.resume_header(unblocked)[1]
        else:
            try:
                decoded[stream_id] = decoder.feed_header(stream_id, payload)[1]
            except pylsqpack.StreamBlocked:
                pass
    return [[(bytes(n), bytes(v)) for n, v in decoded[s]] for s in sorted(decoded)]


def encode(tool, qif, out_path, table, blocked, ack):
    options = ["-t", str(table), "-b", str(blocked)] + (["-a"] if ack else [])
    proc = run_tool(tool, "encode", *options, qif, out_path)
    return proc.returncode == 0, proc.stderr.decode(errors="replace").strip()


def cmd_roundtrip(args, results):
    # Without pylsqpack only h3q's own decoding of its output is checked.
    with_pylsqpack = have_pylsqpack()
    if not with_pylsqpack:
        results.skipped = (f"pylsqpack is not importable by {sys.executable}, so the round "
                           f"trip through ls-qpack did not run ({sys.executable} -m pip "
                           "install pylsqpack; scripts/test.sh makes build/venv with it)")
    names = sorted(f[:-4] for f in os.listdir(os.path.join(args.qifs, "qifs")) if f.endswith(".qif"))
    for name in names:
        expected = expected_lists(args.qifs, name)
        for table in (0, 256, 4096):
            for blocked in (0, 100):
                for ack in (0, 1):
                    encoded = os.path.join(args.work, f"{name}.out.{table}.{blocked}.{ack}")
                    ok, error = encode(args.tool, qif_path(args.qifs, name), encoded,
                                       table, blocked, ack)
                    label = f"{name} table={table} blocked={blocked} ack={ack}"
                    results.check(ok, f"encode {label}: {error}")
                    if not ok:
                        continue
                    ours, error = decode_with_tool(args.tool, encoded, encoded + ".qif")
                    results.check(ours == expected, f"h3q decode of {label}: {error}")
                    if not with_pylsqpack:
                        continue
                    with open(encoded, "rb") as f:
                        data = f.read()
                    try:
                        theirs = pylsqpack_decode(data, table, blocked)
                    except Exception as error:  # any pylsqpack exception is a failure
                        theirs = repr(error)
                    results.check(theirs == expected, f"pylsqpack decode of {label}: {theirs!r:.200}")
    print(f"round trip: {len(names)} QIFs x 12 settings, decoded by h3q"
          + (" and by pylsqpack" if with_pylsqpack else " (pylsqpack missing: not by it)"))


def cmd_compression(args, results):
    root = os.path.join(args.qifs, "encoded", "qpack-05")
    columns = ["h3q"] + IMPLEMENTATIONS
    print("Total encoded bytes at table 4096, blocked 100 (smaller is better):")
    print(f"{'input':<16}" + "".join(f"{c:>10}" for c in columns) + f"{'best other':>12}")
    for name in ("fb-req", "fb-resp"):
        for ack in (0, 1):
            encoded = os.path.join(args.work, f"{name}.out.4096.100.{ack}")
            ok, error = encode(args.tool, qif_path(args.qifs, name), encoded, 4096, 100, ack)
            results.check(ok, f"encode {name}: {error}")
            if not ok:
                continue
            sizes = {"h3q": os.path.getsize(encoded)}
            for impl in IMPLEMENTATIONS:
                path = os.path.join(root, impl, f"{name}.out.4096.100.{ack}")
                sizes[impl] = os.path.getsize(path) if os.path.exists(path) else None
            others = [v for k, v in sizes.items() if k != "h3q" and v is not None]
            best = min(others)
            row = f"{name + ' ack=' + str(ack):<16}"
            row += "".join(f"{sizes[c] if sizes[c] is not None else '-':>10}" for c in columns)
            verdict = "h3q best" if sizes["h3q"] <= best else f"+{sizes['h3q'] - best}"
            print(row + f"{best:>12}  {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["decode", "roundtrip", "compression"])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--qifs", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    if not all(os.path.isdir(os.path.join(args.qifs, d)) for d in ("qifs", "encoded")):
        print(f"SKIPPED: QPACK interop corpus not found at {args.qifs}; set H3Q_QIFS_DIR "
              "(CMake -DH3Q_QIFS_DIR=) to the qifs directory")
        return SKIP_EXIT
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    results = Results()
    {"decode": cmd_decode, "roundtrip": cmd_roundtrip, "compression": cmd_compression}[args.mode](
        args, results)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
