#!/usr/bin/env python3
"""Reference for the benchmark: qemu's own incremental backup, inside one qemu-storage-daemon.

Opens IMAGE read-only, merges bitmap BITMAP into a temporary disabled bitmap (as offline-export does),
creates OUTPUT as a qcow2 overlay on PREVIOUS and runs blockdev-backup sync=bitmap into it: a push
job with no NBD hop, the practical limit on this machine.

usage: qsd_backup.py IMAGE BITMAP PREVIOUS OUTPUT
"""
import json, os, socket, subprocess, sys, tempfile, time

image, bitmap, previous, output = sys.argv[1:5]
previous_rel = os.path.relpath(os.path.abspath(previous), os.path.dirname(os.path.abspath(output)))
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", previous_rel, "-F", "qcow2", output], check=True)
workdir = tempfile.mkdtemp(prefix="qsd-backup-")
qmp_path = os.path.join(workdir, "qmp.sock")
daemon = subprocess.Popen(["qemu-storage-daemon", "--chardev", f"socket,id=m,path={qmp_path},server=on,wait=off", "--monitor", "chardev=m"])
try:
    for _ in range(500):
        if os.path.exists(qmp_path):
            break
        time.sleep(0.01)
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(qmp_path)
    stream = sock.makefile("rw")
    stream.readline()

    def qmp(command, **arguments):
        stream.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        stream.flush()
        while True:
            reply = json.loads(stream.readline())
            if "event" in reply:
                continue
            if "error" in reply:
                raise SystemExit(f"{command}: {reply['error']['desc']}")
            return reply["return"]

    def wait_event(name):
        while True:
            reply = json.loads(stream.readline())
            if reply.get("event") == name:
                return reply

    qmp("qmp_capabilities")
    qmp("blockdev-add", **{"driver": "file", "node-name": "src-file", "filename": os.path.abspath(image), "read-only": True})
    qmp("blockdev-add", **{"driver": "qcow2", "node-name": "src", "file": "src-file", "read-only": True, "backing": None})
    qmp("transaction", actions=[
        {"type": "block-dirty-bitmap-add", "data": {"node": "src", "name": "tmp", "persistent": False, "disabled": True}},
        {"type": "block-dirty-bitmap-merge", "data": {"node": "src", "target": "tmp", "bitmaps": [{"node": "src", "name": bitmap}]}},
    ])
    qmp("blockdev-add", **{"driver": "file", "node-name": "dst-file", "filename": os.path.abspath(output)})
    qmp("blockdev-add", **{"driver": "qcow2", "node-name": "dst", "file": "dst-file"})
    qmp("blockdev-backup", **{"job-id": "bk", "device": "src", "target": "dst", "sync": "bitmap", "bitmap": "tmp", "bitmap-mode": "never", "auto-dismiss": True})
    event = wait_event("BLOCK_JOB_COMPLETED")
    if event["data"].get("error"):
        raise SystemExit("backup job failed: " + event["data"]["error"])
    qmp("quit")
    daemon.wait(30)
finally:
    if daemon.poll() is None:
        daemon.kill()
    subprocess.run(["rm", "-rf", workdir])
