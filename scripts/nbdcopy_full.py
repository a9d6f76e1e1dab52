#!/usr/bin/env python3
"""Reference for the benchmark: a full copy through the same NBD hop, done by libnbd's nbdcopy.

Serves IMAGE read-only and a new qcow2 OUTPUT writable from one qemu-storage-daemon (as offline-export
does), then lets nbdcopy copy the allocated data from one export to the other.

usage: nbdcopy_full.py IMAGE OUTPUT
"""
import json, os, socket, subprocess, sys, tempfile, time

image, output = sys.argv[1:3]
size = json.loads(subprocess.run(["qemu-img", "info", "--output=json", image], capture_output=True, text=True, check=True).stdout)["virtual-size"]
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", output, str(size)], check=True)
workdir = tempfile.mkdtemp(prefix="nbdcopy-")
qmp_path, nbd_path = os.path.join(workdir, "qmp.sock"), os.path.join(workdir, "nbd.sock")
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

    qmp("qmp_capabilities")
    qmp("blockdev-add", **{"driver": "file", "node-name": "src-file", "filename": os.path.abspath(image), "read-only": True})
    qmp("blockdev-add", **{"driver": "qcow2", "node-name": "src", "file": "src-file", "read-only": True, "backing": None})
    qmp("blockdev-add", **{"driver": "file", "node-name": "dst-file", "filename": os.path.abspath(output)})
    qmp("blockdev-add", **{"driver": "qcow2", "node-name": "dst", "file": "dst-file"})
    qmp("nbd-server-start", addr={"type": "unix", "data": {"path": nbd_path}})
    qmp("block-export-add", type="nbd", id="source", **{"node-name": "src"}, name="source", writable=False)
    qmp("block-export-add", type="nbd", id="target", **{"node-name": "dst"}, name="target", writable=True)
    subprocess.run(["nbdcopy", "--target-is-zero", f"nbd+unix:///source?socket={nbd_path}", f"nbd+unix:///target?socket={nbd_path}"], check=True)
    qmp("quit")
    daemon.wait(30)
finally:
    if daemon.poll() is None:
        daemon.kill()
    subprocess.run(["rm", "-rf", workdir])
