#!/usr/bin/env python3
"""Checks virtnbdbackup's output for the benchmark: applies one of its stream files (the sparse stream
format its types.py documents: "meta|data|zero|stop START LENGTH\\r\\n" frames, hex fields, a data
frame's payload followed by "\\r\\n") onto RAW, a raw copy of the disk as it was at the checkpoint.
qemu-img compare then proves RAW equal to the disk.

usage: virtnbd_replay.py STREAM RAW
"""
import os, sys

FRAME_LEN = 40  # "kind" + " " + 16 hex digits + " " + 16 hex digits + "\r\n"
CHUNK = 1 << 20
stream_path, raw_path = sys.argv[1:3]
with open(stream_path, "rb") as stream, open(raw_path, "r+b") as raw:
    while True:
        header = stream.read(FRAME_LEN)
        if len(header) != FRAME_LEN or not header.endswith(b"\r\n"):
            raise SystemExit(f"virtnbd_replay: bad frame header at {stream.tell() - len(header)}: {header!r}")
        kind, start, length = header[:-2].split(b" ")
        start, length = int(start, 16), int(length, 16)
        if kind == b"meta":
            stream.read(length + 2)
        elif kind == b"data":
            raw.seek(start)
            left = length
            while left:
                piece = stream.read(min(CHUNK, left))
                if not piece:
                    raise SystemExit("virtnbd_replay: stream ends inside a data frame")
                raw.write(piece)
                left -= len(piece)
            if stream.read(2) != b"\r\n":
                raise SystemExit("virtnbd_replay: data frame without its terminator")
        elif kind == b"zero":
            raw.seek(start)
            left = length
            while left:
                piece = min(CHUNK, left)
                raw.write(bytes(piece))
                left -= piece
        elif kind == b"stop":
            break
        else:
            raise SystemExit(f"virtnbd_replay: unknown frame {kind!r}")
    raw.flush()
    os.fsync(raw.fileno())
