#!/usr/bin/env python3
"""Reference for the benchmark: qemu's own incremental backup, inside one qemu-storage-daemon.

Opens IMAGE read-only, merges bitmap BITMAP into a temporary disabled bitmap (as offline-export does),
creates OUTPUT as a qcow2 overlay on PREVIOUS and runs blockdev-backup sync=bitmap into it: a push
job with no NBD hop, the practical limit on this machine.

usage: qsd_backup.py IMAGE BITMAP PREVIOUS OUTPUT
"""
import os, subprocess, sys
from qmp_daemon import Daemon

image, bitmap, previous, output = sys.argv[1:5]
previous_rel = os.path.relpath(os.path.abspath(previous), os.path.dirname(os.path.abspath(output)))
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", previous_rel, "-F", "qcow2", output], check=True)
with Daemon() as daemon:
    daemon.open_qcow2("src", image, read_only=True)
    daemon.qmp("transaction", actions=[
        {"type": "block-dirty-bitmap-add", "data": {"node": "src", "name": "tmp", "persistent": False, "disabled": True}},
        {"type": "block-dirty-bitmap-merge", "data": {"node": "src", "target": "tmp", "bitmaps": [{"node": "src", "name": bitmap}]}},
    ])
    daemon.open_qcow2("dst", output, read_only=False)
    daemon.qmp("blockdev-backup", **{"job-id": "bk", "device": "src", "target": "dst", "sync": "bitmap", "bitmap": "tmp", "bitmap-mode": "never", "auto-dismiss": True})
    event = daemon.wait_event("BLOCK_JOB_COMPLETED")
    if event["data"].get("error"):
        raise SystemExit("backup job failed: " + event["data"]["error"])
