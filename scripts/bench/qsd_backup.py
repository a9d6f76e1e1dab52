#!/usr/bin/env python3
"""Reference for the benchmark: qemu's own incremental backup, inside one qemu-storage-daemon.

Opens IMAGE read-only, merges bitmap BITMAP into a temporary disabled bitmap (as offline-export does),
creates OUTPUT as a qcow2 overlay on PREVIOUS and runs blockdev-backup sync=bitmap into it: a push
job with no NBD hop, the practical limit on this machine.

usage: qsd_backup.py IMAGE BITMAP PREVIOUS OUTPUT
"""
import sys
from qmp_daemon import Daemon

image, bitmap, previous, output = sys.argv[1:5]
with Daemon() as daemon:
    daemon.open_incremental(image, bitmap, previous, output)
    daemon.qmp("blockdev-backup", **{"job-id": "bk", "device": "src", "target": "dst", "sync": "bitmap", "bitmap": "tmp", "bitmap-mode": "never", "auto-dismiss": True})
    event = daemon.wait_event("BLOCK_JOB_COMPLETED")
    if event["data"].get("error"):
        raise SystemExit("backup job failed: " + event["data"]["error"])
