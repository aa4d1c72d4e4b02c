#!/usr/bin/env python3
"""Checks the qlog files h3q wrote into a directory (tests/examples_qlog.sh).

    qlog_check.py --files N --side client|server --data-frames created|parsed DIR

Each of the N files (*.sqlog) must be JSON-SEQ (RFC 7464): records that start with RS
(0x1e), hold one JSON text and end with a newline; the first is the qlog header (it has
"qlog_version"), the others events with "time", "name" and "data". Each file must show a
transfer: at least 100 packets sent and 100 received (one of the two directions carries
the data), recovery metrics, the HTTP/3 control and QPACK stream types both ways, SETTINGS
and HEADERS frames created and parsed, and DATA frames --data-frames (created by a server,
parsed by a client). Prints a count of the events per file; exits 1 on the first problem.
"""

import argparse
import collections
import json
import pathlib
import sys


def check(path, side, data_frames):
    text = path.read_bytes().decode("utf-8")
    if not text.startswith("\x1e"):
        return f"{path.name}: does not start with RS"
    records = text.split("\x1e")[1:]
    count = collections.Counter()
    for i, record in enumerate(records):
        if not record.endswith("\n"):
            return f"{path.name}: record {i} does not end with a newline"
        try:
            value = json.loads(record)
        except json.JSONDecodeError as e:
            return f"{path.name}: record {i} is not JSON: {e}"
        if i == 0:
            if "qlog_version" not in value:
                return f"{path.name}: no qlog header first"
            continue
        for key in ("time", "name", "data"):
            if key not in value:
                return f"{path.name}: record {i} has no {key!r}"
        name = value["name"]
        count[name] += 1
        data = value["data"]
        if isinstance(data, dict):
            if "frame" in data:
                count[f"{name}/{data['frame'].get('frame_type')}"] += 1
            if "stream_type" in data:
                count[f"{name}/{data['stream_type']}"] += 1
            if "instruction" in data:
                count[f"{name}/{data['instruction'].get('instruction_type')}"] += 1
    print(f"{side} {path.name}: {len(records)} records: {dict(sorted(count.items()))}")
    need = {
        "transport:packet_sent": 3, "transport:packet_received": 3,
        "recovery:metrics_updated": 1,
        "http:stream_type_set/control": 2, "http:stream_type_set/qpack_encode": 2,
        "http:frame_created/settings": 1, "http:frame_parsed/settings": 1,
        "http:frame_created/headers": 1, "http:frame_parsed/headers": 1,
        f"http:frame_{data_frames}/data": 1,
    }
    for key, at_least in need.items():
        if count[key] < at_least:
            return f"{path.name}: {count[key]} {key}, expected at least {at_least}"
    if max(count["transport:packet_sent"], count["transport:packet_received"]) < 100:
        return f"{path.name}: too few packets for a 10 MB transfer"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--side", choices=("client", "server"), required=True)
    parser.add_argument("--data-frames", choices=("created", "parsed"), required=True)
    parser.add_argument("dir", type=pathlib.Path)
    args = parser.parse_args()
    files = sorted(args.dir.glob("*.sqlog"))
    if len(files) != args.files:
        print(f"FAIL: {len(files)} qlog files in {args.dir}, expected {args.files}")
        return 1
    for path in files:
        if not path.name.startswith(args.side + "-"):
            print(f"FAIL: {path.name} is not named for the {args.side}")
            return 1
        problem = check(path, args.side, args.data_frames)
        if problem:
            print(f"FAIL: {problem}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
