#!/usr/bin/env python3
"""Reference for the benchmark: the pull design's ceiling, with the same two NBD hops as offline-export.

One qemu-storage-daemon serves IMAGE read-only with bitmap BITMAP merged into a temporary one (as
offline-export does) and a new qcow2 OUTPUT on PREVIOUS writable; the minimal libnbd client PROGRAM
(nbd_pull.c) copies the dirty clusters. Prints the client's own CPU seconds on stdout.

usage: nbd_pull.py PROGRAM IMAGE BITMAP PREVIOUS OUTPUT
"""
import sys
import measure
from qmp_daemon import Daemon

program, image, bitmap, previous, output = sys.argv[1:6]
with Daemon() as daemon:
    daemon.open_incremental(image, bitmap, previous, output)
    daemon.qmp("nbd-server-start", addr={"type": "unix", "data": {"path": daemon.nbd_path}})
    daemon.qmp("block-export-add", type="nbd", id="source", **{"node-name": "src"}, name="source", writable=False, bitmaps=["tmp"])
    daemon.qmp("block-export-add", type="nbd", id="target", **{"node-name": "dst"}, name="target", writable=True)
    client = measure.run([program, f"nbd+unix:///source?socket={daemon.nbd_path}", f"nbd+unix:///target?socket={daemon.nbd_path}", "tmp"])
print(f"{client.cpu_self:.3f}")
