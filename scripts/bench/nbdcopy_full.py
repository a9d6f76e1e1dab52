#!/usr/bin/env python3
"""Reference for the benchmark: a full copy through the same NBD hop, done by libnbd's nbdcopy.

Serves IMAGE read-only and a new qcow2 OUTPUT writable from one qemu-storage-daemon (as offline-export
does), then lets nbdcopy copy the allocated data from one export to the other.

usage: nbdcopy_full.py IMAGE OUTPUT
"""
import json, subprocess, sys
from qmp_daemon import Daemon

image, output = sys.argv[1:3]
size = json.loads(subprocess.run(["qemu-img", "info", "--output=json", image], capture_output=True, text=True, check=True).stdout)["virtual-size"]
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", output, str(size)], check=True)
with Daemon() as daemon:
    daemon.open_qcow2("src", image, read_only=True)
    daemon.open_qcow2("dst", output, read_only=False)
    daemon.qmp("nbd-server-start", addr={"type": "unix", "data": {"path": daemon.nbd_path}})
    daemon.qmp("block-export-add", type="nbd", id="source", **{"node-name": "src"}, name="source", writable=False)
    daemon.qmp("block-export-add", type="nbd", id="target", **{"node-name": "dst"}, name="target", writable=True)
    subprocess.run(["nbdcopy", "--target-is-zero", f"nbd+unix:///source?socket={daemon.nbd_path}", f"nbd+unix:///target?socket={daemon.nbd_path}"], check=True)
