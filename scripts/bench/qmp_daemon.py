"""A qemu-storage-daemon with a QMP monitor, for the benchmark's reference scripts (not the product)."""
import json, os, socket, subprocess, tempfile, time


class Daemon:
    """Starts qemu-storage-daemon with QMP on a unix socket in a private folder; use it in a `with`."""

    def __enter__(self):
        self.folder = tempfile.mkdtemp(prefix="bench-qsd-")
        qmp_path = os.path.join(self.folder, "qmp.sock")
        self.nbd_path = os.path.join(self.folder, "nbd.sock")
        self.process = subprocess.Popen(["qemu-storage-daemon", "--chardev", f"socket,id=m,path={qmp_path},server=on,wait=off", "--monitor", "chardev=m"])
        for _ in range(500):
            if os.path.exists(qmp_path):
                break
            time.sleep(0.01)
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(600)  # a daemon that stops answering ends the run instead of hanging it
        sock.connect(qmp_path)
        self.events = []
        self.stream = sock.makefile("rw")
        self.stream.readline()  # greeting
        self.qmp("qmp_capabilities")
        return self

    def qmp(self, command, **arguments):
        """Runs a command and returns its result; an error ends the script with qemu's words."""
        self.stream.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self.stream.flush()
        while True:
            reply = json.loads(self.stream.readline())
            if "event" in reply:
                # Kept: a job over an empty bitmap can complete before its command's return arrives.
                self.events.append(reply)
                continue
            if "error" in reply:
                raise SystemExit(f"{command}: {reply['error']['desc']}")
            return reply["return"]

    def wait_event(self, name):
        """Waits for the next event called `name` (or returns one that already came)."""
        for event in self.events:
            if event.get("event") == name:
                self.events.remove(event)
                return event
        while True:
            reply = json.loads(self.stream.readline())
            if reply.get("event") == name:
                return reply

    def open_qcow2(self, node, path, read_only):
        """A file node and a qcow2 node on it (the source gets no backing: a single-layer image)."""
        self.qmp("blockdev-add", **{"driver": "file", "node-name": node + "-file", "filename": os.path.abspath(path), "read-only": read_only})
        options = {"driver": "qcow2", "node-name": node, "file": node + "-file", "read-only": read_only}
        if read_only:
            options["backing"] = None
        self.qmp("blockdev-add", **options)

    def open_incremental(self, image, bitmap, previous, output):
        """As offline-export does: IMAGE read-only as node src with BITMAP merged into a temporary
        disabled bitmap "tmp", and a new qcow2 OUTPUT on PREVIOUS as node dst, writable."""
        previous_rel = os.path.relpath(os.path.abspath(previous), os.path.dirname(os.path.abspath(output)))
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", previous_rel, "-F", "qcow2", output], check=True)
        self.open_qcow2("src", image, read_only=True)
        self.qmp("transaction", actions=[
            {"type": "block-dirty-bitmap-add", "data": {"node": "src", "name": "tmp", "persistent": False, "disabled": True}},
            {"type": "block-dirty-bitmap-merge", "data": {"node": "src", "target": "tmp", "bitmaps": [{"node": "src", "name": bitmap}]}},
        ])
        self.open_qcow2("dst", output, read_only=False)

    def __exit__(self, *failure):
        try:
            if failure[0] is None:
                self.qmp("quit")
                self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            subprocess.run(["rm", "-rf", self.folder])
