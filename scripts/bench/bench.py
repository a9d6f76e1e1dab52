#!/usr/bin/env python3
"""OfflineExport benchmark (make bench): offline-export against qemu's own path and the real peers, on
the same data, in interleaved rounds (the order rotates every round), medians and per-round ratios.

Peers
  ours      bin/offline-export export: pull over NBD from qemu-storage-daemon into a qcow2 overlay
  qemu      qemu's in-daemon incremental: blockdev-backup sync=bitmap inside one qemu-storage-daemon,
            no NBD hop (qsd_backup.py)
  vnb       virtnbdbackup (Debian) -l inc on a shut-off libvirt domain (qemu-nbd --bitmap, its own
            stream format), followed by an fdatasync of its file; its data is checked by replaying
            the stream onto the previous state (virtnbd_replay.py)
  pull      a minimal libnbd client with 8 x 1 MiB requests in flight over the same two NBD hops as
            ours (nbd_pull.c, driven by nbd_pull.py): the ceiling of the pull design
  nbdcopy   libnbd's nbdcopy between the same two exports, and convert, qemu-img convert: full export

Scenarios (a 4 GiB qcow2 with 1.5 GiB of data; each incremental scenario's changes follow the last)
  full         full export of the disk
  empty        an incremental with nothing dirty: the fixed cost
  incremental  2,500 random writes of 4 KiB-1 MiB, 10 % of them zero writes
  scattered    40,000 scattered 4 KiB writes
  sequential   one 3 GiB sequential range
  alternate    every other 64 KiB cluster of 2 GiB dirty (the largest dirty bitmap walk; for memory)
  64M@1G, 64M@2T, 64M@16T   the same 64 MiB dirty on disks of 1 GiB, 2 TiB and 16 TiB

Every output is checked (qemu-img compare, or the replay); every timed run starts after a sync.
Environment: BENCH_DIR (default ./.bench), ROUNDS (default 5), LEVERS=0 to skip the lever sweep.
"""
import json, os, random, shutil, statistics, subprocess, sys, time

import measure

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOL = os.path.join(ROOT, "bin", "offline-export")
WORK = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, ".bench")))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
LEVER_ROUNDS = int(os.environ.get("LEVER_ROUNDS", "5"))
DOMAIN = "offline-export-bench"
BITMAP = "virtnbdbackup.0"  # virtnbdbackup takes the bitmap's name from its .cpt file; all peers use it
PULL = os.path.join(WORK, "nbd_pull")
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


def path(name):
    return os.path.join(WORK, name)


def sh(*args, stdin=None):
    subprocess.run(args, input=stdin, text=True, check=True, stdout=subprocess.DEVNULL)


def remove(*names):
    for name in names:
        target = path(name)
        if os.path.isdir(target):
            shutil.rmtree(target)
        elif os.path.exists(target):
            os.remove(target)


def timed(args, stdout=None):
    os.sync()  # write back the previous run's dirty pages first, so no run pays for another's
    return measure.run(args, stdout=stdout)


def compare(output, image):
    result = subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", path(output), path(image)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"bench: {output} differs from {image}: {result.stdout.strip()} {result.stderr.strip()}")


def qemu_io(image, commands):
    sh("qemu-io", "-f", "qcow2", path(image), stdin="\n".join(commands) + "\nquit\n")


def virtual_size(image):
    return json.loads(subprocess.run(["qemu-img", "info", "--output=json", path(image)], capture_output=True, text=True, check=True).stdout)["virtual-size"]


class Libvirt:
    """A libvirtd for virtnbdbackup (started here if none runs, and then stopped here by PID) and a
    shut-off domain whose one disk is the scenario's image."""

    def __enter__(self):
        self.started = []
        for name in ("virtlogd", "libvirtd"):
            if subprocess.run(["pgrep", "-x", name], capture_output=True).returncode != 0:
                before = set(self.pids(name))
                sh(f"/usr/sbin/{name}", "-d")
                self.started += [pid for pid in self.pids(name) if pid not in before]
        for _ in range(300):
            if subprocess.run(["virsh", "-c", "qemu:///system", "version"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(["virsh", "-q", "-c", "qemu:///system", "undefine", DOMAIN], capture_output=True)
        return self

    @staticmethod
    def pids(name):
        out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def define(self, image):
        xml = path("domain.xml")
        kind = "kvm" if os.path.exists("/dev/kvm") else "qemu"
        with open(xml, "w") as f:
            f.write(f"""<domain type='{kind}'><name>{DOMAIN}</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='{path(image)}'/><target dev='vda' bus='virtio'/></disk></devices></domain>""")
        subprocess.run(["virsh", "-q", "-c", "qemu:///system", "undefine", DOMAIN], capture_output=True)
        sh("virsh", "-q", "-c", "qemu:///system", "define", xml)

    def __exit__(self, *failure):
        subprocess.run(["virsh", "-q", "-c", "qemu:///system", "undefine", DOMAIN], capture_output=True)
        for pid in reversed(self.started):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass


class Results:
    """Every timed run, by scenario and peer, in the order they ran."""

    def __init__(self):
        self.runs = {}
        self.copied = {}

    def add(self, scenario, peer, m, cpu=None):
        """`cpu`: the copying process's own CPU when it is not the one measured (nbd_pull.py reports its client's)."""
        own = cpu if cpu is not None else (m.cpu_self if peer == "ours" else None)
        self.runs.setdefault(scenario, {}).setdefault(peer, []).append((m.wall, own, m.peak_rss_kib, m.cpu_self + m.cpu_children))

    def walls(self, scenario, peer):
        return [r[0] for r in self.runs[scenario][peer]]

    def median(self, scenario, peer):
        return statistics.median(self.walls(scenario, peer))

    def ratio(self, scenario, peer, other):
        return self.median(scenario, peer) / self.median(scenario, other)

    def per_round(self, scenario, peer, other):
        return [a / b for a, b in zip(self.walls(scenario, peer), self.walls(scenario, other))]


def interleave(rounds, peers):
    """Runs each peer once per round; the order rotates so no peer always runs first."""
    names = list(peers)
    for round in range(rounds):
        shift = round % len(names)
        for name in names[shift:] + names[:shift]:
            peers[name](round)


def incremental_scenario(results, libvirt, name, image, previous, rounds, peers=("ours", "qemu", "vnb", "pull")):
    """One incremental scenario: every peer exports `image`'s changes since BITMAP onto `previous`.
    Returns the name of ours' last output, the next scenario's previous backup."""
    if "vnb" in peers:
        libvirt.define(image)
        raw = f"{name}.replay.raw"
        sh("qemu-img", "convert", "-O", "raw", path(previous), path(raw))

    def ours(round):
        remove(f"{name}.ours.qcow2")
        m = timed([TOOL, "export", path(image), path(f"{name}.ours.qcow2"), "--bitmap", BITMAP, "--backing", path(previous), "--quiet"])
        results.add(name, "ours", m)
        compare(f"{name}.ours.qcow2", image)

    def qemu(round):
        remove(f"{name}.qemu.qcow2")
        results.add(name, "qemu", timed(["python3", os.path.join(HERE, "qsd_backup.py"), path(image), BITMAP, path(previous), path(f"{name}.qemu.qcow2")]))
        compare(f"{name}.qemu.qcow2", image)
        remove(f"{name}.qemu.qcow2")

    def pull(round):
        remove(f"{name}.pull.qcow2")
        cpu_file = path("pull-cpu.txt")
        with open(cpu_file, "w") as out:
            m = timed(["python3", os.path.join(HERE, "nbd_pull.py"), PULL, path(image), BITMAP, path(previous), path(f"{name}.pull.qcow2")], stdout=out)
        results.add(name, "pull", m, cpu=float(open(cpu_file).read()))
        compare(f"{name}.pull.qcow2", image)
        remove(f"{name}.pull.qcow2")

    def vnb(round):
        out = f"{name}.vnb"
        remove(out)
        os.makedirs(path(out))
        with open(path(f"{out}/{DOMAIN}.cpt"), "w") as f:
            json.dump([BITMAP], f)
        stream = path(f"{out}/vda.inc.{BITMAP}.data")
        m = timed(["sh", "-c", f"virtnbdbackup -d {DOMAIN} -l inc -o '{path(out)}' -n >/dev/null 2>&1 && sync -d '{stream}'"])
        results.add(name, "vnb", m)
        if round == 0:
            sh("python3", os.path.join(HERE, "virtnbd_replay.py"), stream, path(raw))
            check = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", path(raw), path(image)], capture_output=True, text=True)
            if check.returncode != 0:
                sys.exit(f"bench: virtnbdbackup's {name} stream does not replay to the disk: {check.stdout.strip()}")
        remove(out)

    every = {"ours": ours, "qemu": qemu, "vnb": vnb, "pull": pull}
    interleave(rounds, {p: every[p] for p in peers})
    if "vnb" in peers:
        remove(raw)
    planned = json.loads(subprocess.run([TOOL, "export", path(image), path("plan.qcow2"), "--bitmap", BITMAP, "--backing", path(previous), "--dry-run", "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    results.copied[name] = planned["plannedDataBytes"]
    print(f"bench: {name}: {planned['plannedDataBytes'] / MiB:.0f} MiB dirty data + {planned['plannedZeroBytes'] / MiB:.0f} MiB dirty zeroes; "
          + ", ".join(f"{p} {results.median(name, p):.2f} s" for p in peers), flush=True)
    return f"{name}.ours.qcow2"


def new_window(image):
    """Starts the next scenario's checkpoint: the bitmap is removed and added again, empty."""
    sh("qemu-img", "bitmap", "--remove", path(image), BITMAP)
    sh("qemu-img", "bitmap", "--add", "--enable", path(image), BITMAP)


def full_scenario(results, rounds):
    def ours(round):
        remove("full.ours.qcow2")
        results.add("full", "ours", timed([TOOL, "export", path("disk.qcow2"), path("full.ours.qcow2"), "--quiet"]))
        compare("full.ours.qcow2", "disk.qcow2")

    def nbdcopy(round):
        remove("full.nbdcopy.qcow2")
        results.add("full", "nbdcopy", timed(["python3", os.path.join(HERE, "nbdcopy_full.py"), path("disk.qcow2"), path("full.nbdcopy.qcow2")]))
        compare("full.nbdcopy.qcow2", "disk.qcow2")
        remove("full.nbdcopy.qcow2")

    def convert(round):
        remove("full.convert.qcow2")
        results.add("full", "convert", timed(["qemu-img", "convert", "-O", "qcow2", path("disk.qcow2"), path("full.convert.qcow2")]))
        compare("full.convert.qcow2", "disk.qcow2")
        remove("full.convert.qcow2")

    interleave(rounds, {"ours": ours, "nbdcopy": nbdcopy, "convert": convert})
    print(f"bench: full: ours {results.median('full', 'ours'):.2f} s, nbdcopy {results.median('full', 'nbdcopy'):.2f} s, convert {results.median('full', 'convert'):.2f} s", flush=True)


def size_scenario(results, libvirt, size):
    """The same 64 MiB dirty (64 x 1 MiB, spread evenly) on a disk of `size`."""
    name, image = f"64M@{size}", f"size-{size}.qcow2"
    sh("qemu-img", "create", "-q", "-f", "qcow2", path(image), size)
    sh(TOOL, "export", path(image), path(f"size-{size}.full.qcow2"), "--quiet")
    sh("qemu-img", "bitmap", "--add", "--enable", path(image), BITMAP)
    step = virtual_size(image) // 64 // MiB * MiB
    qemu_io(image, [f"write -P {i + 1} {i * step} {MiB}" for i in range(64)])
    incremental_scenario(results, libvirt, name, image, f"size-{size}.full.qcow2", max(3, ROUNDS), peers=("ours", "qemu"))
    remove(image, f"size-{size}.full.qcow2", f"{name}.ours.qcow2")


def build_disk():
    rng = random.Random(42)
    sh("qemu-img", "create", "-q", "-f", "qcow2", path("disk.qcow2"), "4G")
    slots = rng.sample(range(512), 192)  # 192 x 8 MiB = 1.5 GiB of data, spread over the disk
    qemu_io("disk.qcow2", [f"write -P {rng.randint(1, 255)} {s * 8 * MiB} {8 * MiB}" for s in slots])


def random_writes(count, sizes, zero_share, seed):
    rng = random.Random(seed)
    commands = []
    for _ in range(count):
        size = rng.choice(sizes)
        offset = rng.randrange(0, 4 * GiB - size) // 4096 * 4096
        commands.append(f"write -z {offset} {size}" if rng.random() < zero_share else f"write -P {rng.randint(1, 255)} {offset} {size}")
    qemu_io("disk.qcow2", commands)


def report(results):
    print()
    print(f"{'scenario':<13}{'peer':<9}{'median s':>9}  {'rounds (s)':<34}{'own CPU':>8}{'all CPU':>8}{'peak RSS':>10}")
    for scenario, peers in results.runs.items():
        for peer, runs in peers.items():
            walls = " ".join(f"{r[0]:.2f}" for r in runs)
            own = f"{statistics.median(r[1] for r in runs):.2f}" if runs[0][1] is not None else "-"
            every = statistics.median(r[3] for r in runs)
            rss = max(r[2] for r in runs) / 1024
            print(f"{scenario:<13}{peer:<9}{statistics.median(r[0] for r in runs):>9.2f}  {walls:<34}{own:>8}{every:>8.2f}{rss:>6.0f} MiB")
    print("(own CPU: seconds of the copying process alone (ours: offline-export without its daemon; pull: the libnbd client);")
    print(" all CPU: the whole process tree with its daemons; peak RSS: the largest process of the tree, for ours often its daemon)")
    print()
    for scenario, peers in results.runs.items():
        for other in [p for p in peers if p != "ours"]:
            rounds = " ".join(f"{r:.2f}" for r in results.per_round(scenario, "ours", other))
            print(f"ours / {other:<8} {scenario:<12} {results.ratio(scenario, 'ours', other):5.2f}   per round: {rounds}")

    def cpu_per_gib(scenario, peer):
        return statistics.median(r[1] for r in results.runs[scenario][peer]) / (results.copied[scenario] / GiB)

    ours_rss = max(r[2] for peers in results.runs.values() for r in peers.get("ours", [])) / 1024
    ours_cpu, pull_cpu = cpu_per_gib("incremental", "ours"), cpu_per_gib("incremental", "pull")
    targets = [
        ("incremental: ours / qemu's in-daemon job <= 1.2", results.ratio("incremental", "ours", "qemu"), 1.2),
        ("incremental: ours / virtnbdbackup <= 0.5", results.ratio("incremental", "ours", "vnb"), 0.5),
        ("empty incremental: ours / qemu's <= 1.5", results.ratio("empty", "ours", "qemu"), 1.5),
        ("full export: ours / nbdcopy over the same hop <= 0.9", results.ratio("full", "ours", "nbdcopy"), 0.9),
        ("16 TiB / 1 GiB, same 64 MiB dirty <= 1.3", results.median("64M@16T", "ours") / results.median("64M@1G", "ours"), 1.3),
        ("2 TiB / 1 GiB, same 64 MiB dirty <= 1.2", results.median("64M@2T", "ours") / results.median("64M@1G", "ours"), 1.2),
        ("peak RSS of ours' process tree, every scenario <= 200 MiB", ours_rss, 200),
        (f"incremental: ours' CPU per copied GiB / the libnbd client's <= 1.0 ({ours_cpu:.2f} vs {pull_cpu:.2f} s/GiB)", ours_cpu / pull_cpu, 1.0),
    ]
    print()
    for text, value, limit in targets:
        print(f"target {'HOLDS ' if value <= limit else 'MISSED'}  {value:7.2f}  {text}")


def levers():
    """Each setting alone against the defaults, on the incremental: paired runs in alternating order,
    judged on the median of the pairs' ratios (host write-back makes consecutive runs drift together)."""
    print()
    print(f"levers (incremental, {LEVER_ROUNDS} pairs each; ratio = median of lever/default over the pairs):")
    settings = [
        ["Export:MaxInFlight=8"], ["Export:MaxInFlight=4"], ["Export:RequestSize=64K"], ["Export:RequestSize=1M"],
        ["Export:RequestSize=1M", "Export:MaxInFlight=8"], ["Export:RequestSize=4M"], ["Daemon:CacheDirect=none"], ["Daemon:CacheDirect=all"],
    ]
    args = [TOOL, "export", path("lever-disk.qcow2"), path("l.qcow2"), "--bitmap", BITMAP, "--backing", path("lever-previous.qcow2"), "--quiet"]
    for setting in settings:
        base, lever = [], []
        try:
            for round in range(LEVER_ROUNDS):
                for which in (("base", "lever") if round % 2 == 0 else ("lever", "base")):
                    remove("l.qcow2")
                    if which == "base":
                        base.append(timed(args).wall)
                    else:
                        lever.append(timed(args + [a for s in setting for a in ("--set", s)]).wall)
                        compare("l.qcow2", "lever-disk.qcow2")
        except subprocess.CalledProcessError as failure:
            print(f"  {' '.join(setting):<44} refused or failed (exit code {failure.returncode})")
            continue
        paired = statistics.median([l / b for l, b in zip(lever, base)])
        print(f"  {' '.join(setting):<44} {statistics.median(lever):6.2f} s  vs default {statistics.median(base):6.2f} s  (paired {paired:.2f}x)", flush=True)
    remove("l.qcow2")


def main():
    if not os.access(TOOL, os.X_OK):
        sys.exit(f"bench: {TOOL} is missing; run make build")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    os.chmod(WORK, 0o755)
    sh("gcc", "-O2", "-o", PULL, os.path.join(HERE, "nbd_pull.c"), "-lnbd")
    qemu = subprocess.run(["qemu-img", "--version"], capture_output=True, text=True).stdout.split()[2]
    vnb = subprocess.run(["virtnbdbackup", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"bench: data in {WORK}, {ROUNDS} rounds, qemu {qemu}, virtnbdbackup {vnb}, {os.cpu_count()} CPUs, {TOOL} ({subprocess.run([TOOL, '--version'], capture_output=True, text=True).stdout.strip()})", flush=True)
    results = Results()
    build_disk()
    full_scenario(results, max(3, ROUNDS // 2 + 1))
    previous = "full.ours.qcow2"
    with Libvirt() as libvirt:
        sh("qemu-img", "bitmap", "--add", "--enable", path("disk.qcow2"), BITMAP)
        previous = incremental_scenario(results, libvirt, "empty", "disk.qcow2", previous, ROUNDS)
        random_writes(2500, [n * KiB for n in (4, 8, 16, 32, 64, 128, 256, 512, 1024)], 0.1, 7)
        previous = incremental_scenario(results, libvirt, "incremental", "disk.qcow2", previous, ROUNDS)
        # The lever sweep reuses this window: a copy of the disk and of its previous backup's chain.
        sh("cp", "--sparse=always", path("disk.qcow2"), path("lever-disk.qcow2"))
        sh("qemu-img", "convert", "-O", "qcow2", path("full.ours.qcow2"), path("lever-previous.qcow2"))
        new_window("disk.qcow2")
        random_writes(40000, [4 * KiB], 0, 11)
        previous = incremental_scenario(results, libvirt, "scattered", "disk.qcow2", previous, ROUNDS)
        new_window("disk.qcow2")
        qemu_io("disk.qcow2", [f"write -P 0x5e {512 * MiB + i * GiB} {GiB}" for i in range(3)])
        previous = incremental_scenario(results, libvirt, "sequential", "disk.qcow2", previous, max(3, ROUNDS // 2 + 1))
        new_window("disk.qcow2")
        qemu_io("disk.qcow2", [f"write -P 0x6f {i * 128 * KiB} {64 * KiB}" for i in range(2 * GiB // (128 * KiB))])
        previous = incremental_scenario(results, libvirt, "alternate", "disk.qcow2", previous, max(3, ROUNDS // 2 + 1), peers=("ours", "qemu"))
        for size in ("1G", "2T", "16T"):
            size_scenario(results, libvirt, size)
    report(results)
    if os.environ.get("LEVERS", "1") != "0":
        levers()
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
