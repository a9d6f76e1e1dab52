#!/usr/bin/env python3
"""OfflineExport benchmark (make bench). Ratios against qemu's own tools on the same data.

  A  offline-export export (this project): pull over NBD from qemu-storage-daemon
  B  qemu's in-daemon incremental backup: blockdev-backup sync=bitmap into a qcow2 overlay node
     (scripts/qsd_backup.py; no NBD hop: the practical limit on this machine)
  C  qemu-img convert of the whole disk: the reference for a full export
  D  libnbd's nbdcopy between the same two qemu-storage-daemon exports: the same NBD hop as A

Data (seeded, so every run builds the same): a 4 GiB qcow2 with ~1.5 GiB of data; a full backup; a
checkpoint; ~2,500 random writes of 4 KiB-1 MiB (10% of them zero writes), ~0.5 GiB dirty. Runs
alternate (A B, B A, ...) and report medians. Every output is checked with qemu-img compare.
Peak RSS comes from /usr/bin/time -v. Then the same 64 MiB of dirty data on a 2 TiB sparse disk and
on a 1 GiB disk: block-status scanning must not cost per cluster of the disk.

Environment: BENCH_DIR (default ./.bench), ROUNDS (default 5), LEVERS=0 to skip the lever sweep.
"""
import json, os, random, re, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "bin", "offline-export")
QSD_BACKUP = os.path.join(ROOT, "scripts", "qsd_backup.py")
NBDCOPY_FULL = os.path.join(ROOT, "scripts", "nbdcopy_full.py")
WORK = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, ".bench")))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
LEVER_ROUNDS = int(os.environ.get("LEVER_ROUNDS", "5"))
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


def sh(*args, stdin=None):
    subprocess.run(args, input=stdin, text=True, check=True, stdout=subprocess.DEVNULL)


def timed(*args):
    """Runs a command under /usr/bin/time -v: (wall seconds, peak RSS in KiB)."""
    report = os.path.join(WORK, "time.txt")
    # Write back the previous run's dirty pages first, so no run pays for another's.
    os.sync()
    start = time.monotonic()
    subprocess.run(["/usr/bin/time", "-v", "-o", report, *args], check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(report).read()).group(1))
    return wall, rss


def path(name):
    return os.path.join(WORK, name)


def remove(*names):
    for name in names:
        if os.path.exists(path(name)):
            os.remove(path(name))


def compare(output, image):
    result = subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", path(output), path(image)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"bench: {output} differs from {image}: {result.stdout.strip()} {result.stderr.strip()}")


def qemu_io(image, commands):
    sh("qemu-io", "-f", "qcow2", path(image), stdin="\n".join(commands) + "\nquit\n")


def export_incremental(output, image="disk.qcow2", bitmap="ck", backing="full.qcow2", *settings):
    args = [TOOL, "export", path(image), path(output), "--bitmap", bitmap, "--backing", path(backing), "--quiet"]
    for setting in settings:
        args += ["--set", setting]
    return timed(*args)


def median(values):
    return statistics.median(values)


def build_data():
    rng = random.Random(42)
    sh("qemu-img", "create", "-q", "-f", "qcow2", path("disk.qcow2"), "4G")
    slots = rng.sample(range(512), 192)  # 192 x 8 MiB = 1.5 GiB of data, spread over the disk
    qemu_io("disk.qcow2", [f"write -P {rng.randint(1, 255)} {s * 8 * MiB} {8 * MiB}" for s in slots])


def random_writes():
    rng = random.Random(7)
    commands, written = [], 0
    for _ in range(2500):
        size = rng.choice([4, 8, 16, 32, 64, 128, 256, 512, 1024]) * KiB
        offset = rng.randrange(0, 4 * GiB - size) // 4096 * 4096
        commands.append(f"write -z {offset} {size}" if rng.random() < 0.1 else f"write -P {rng.randint(1, 255)} {offset} {size}")
        written += size
    qemu_io("disk.qcow2", commands)
    return written


def scan_cost(size, name):
    """Incremental export of the same 64 MiB dirty (64 x 1 MiB, spread evenly) on a disk of `size`."""
    image, full = f"{name}.qcow2", f"{name}.full.qcow2"
    remove(image, full)
    sh("qemu-img", "create", "-q", "-f", "qcow2", path(image), size)
    sh(TOOL, "export", path(image), path(full), "--quiet")
    sh("qemu-img", "bitmap", "--add", "--enable", path(image), "ck")
    info = subprocess.run(["qemu-img", "info", "--output=json", path(image)], capture_output=True, text=True, check=True).stdout
    total = json.loads(info)["virtual-size"]
    step = total // 64 // MiB * MiB
    qemu_io(image, [f"write -P {i + 1} {i * step} {MiB}" for i in range(64)])
    return image, full


def main():
    if not os.access(TOOL, os.X_OK):
        sys.exit(f"bench: {TOOL} is missing; run make build")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    print(f"bench: data in {WORK}, {ROUNDS} rounds, qemu {subprocess.run(['qemu-img', '--version'], capture_output=True, text=True).stdout.split()[2]}, {os.cpu_count()} CPUs")
    build_data()
    results = {}

    # Full export vs qemu-img convert (C), alternating.
    a_full, c_full, d_full, a_full_rss = [], [], [], []
    for round in range(max(3, ROUNDS // 2 + 1)):
        remove("full.qcow2", "convert.qcow2", "nbdcopy.qcow2")
        order = ["A", "C", "D"] if round % 2 == 0 else ["D", "C", "A"]
        for who in order:
            if who == "A":
                wall, rss = timed(TOOL, "export", path("disk.qcow2"), path("full.qcow2"), "--quiet")
                a_full.append(wall)
                a_full_rss.append(rss)
            elif who == "C":
                c_full.append(timed("qemu-img", "convert", "-O", "qcow2", path("disk.qcow2"), path("convert.qcow2"))[0])
            else:
                d_full.append(timed("python3", NBDCOPY_FULL, path("disk.qcow2"), path("nbdcopy.qcow2"))[0])
        compare("full.qcow2", "disk.qcow2")
        compare("convert.qcow2", "disk.qcow2")
        compare("nbdcopy.qcow2", "disk.qcow2")
    remove("convert.qcow2", "nbdcopy.qcow2")

    sh("qemu-img", "bitmap", "--add", "--enable", path("disk.qcow2"), "ck")
    written = random_writes()
    dry = subprocess.run([TOOL, "export", path("disk.qcow2"), path("x.qcow2"), "--bitmap", "ck", "--backing", path("full.qcow2"), "--dry-run", "--json"],
                         capture_output=True, text=True, check=True)
    planned = json.loads(dry.stdout)
    print(f"bench: {written / MiB:.0f} MiB written by 2,500 random writes; dirty: {planned['plannedDataBytes'] / MiB:.0f} MiB data + {planned['plannedZeroBytes'] / MiB:.0f} MiB zeroes")

    # Incremental: A (offline-export) vs B (qemu's blockdev-backup), alternating.
    a_inc, b_inc, a_inc_rss = [], [], []
    for round in range(ROUNDS):
        remove("a.qcow2", "b.qcow2")
        order = ["A", "B"] if round % 2 == 0 else ["B", "A"]
        for who in order:
            if who == "A":
                wall, rss = export_incremental("a.qcow2")
                a_inc.append(wall)
                a_inc_rss.append(rss)
            else:
                b_inc.append(timed("python3", QSD_BACKUP, path("disk.qcow2"), "ck", path("full.qcow2"), path("b.qcow2"))[0])
        compare("a.qcow2", "disk.qcow2")
        compare("b.qcow2", "disk.qcow2")
    remove("a.qcow2", "b.qcow2")

    # The same dirty data on a 2 TiB sparse disk and on a 1 GiB disk.
    big, big_full = scan_cost("2T", "huge")
    small, small_full = scan_cost("1G", "small")
    t_big, t_small, rss_big = [], [], []
    for round in range(3):
        remove("huge.inc.qcow2", "small.inc.qcow2")
        wall, rss = export_incremental("huge.inc.qcow2", big, "ck", big_full)
        t_big.append(wall)
        rss_big.append(rss)
        t_small.append(export_incremental("small.inc.qcow2", small, "ck", small_full)[0])
        compare("huge.inc.qcow2", big)
        compare("small.inc.qcow2", small)

    ratio_ab = median(a_inc) / median(b_inc)
    ratio_scan = median(t_big) / median(t_small)
    peak_rss = max(a_inc_rss + a_full_rss + rss_big) / 1024
    print()
    print(f"{'run':<44}{'median s':>10}{'runs':>30}")
    rows = [("A  incremental, offline-export", a_inc), ("B  incremental, qemu blockdev-backup", b_inc),
            ("A  full export, offline-export", a_full), ("C  full copy, qemu-img convert", c_full), ("D  full copy over NBD, nbdcopy", d_full),
            ("A  incremental, 2 TiB disk, 64 MiB dirty", t_big), ("A  incremental, 1 GiB disk, 64 MiB dirty", t_small)]
    for label, values in rows:
        print(f"{label:<44}{median(values):>10.2f}{' '.join(f'{v:.2f}' for v in values):>30}")
    print()
    print(f"A/B per round (each A next to its B):  {' '.join(f'{a / b:.2f}' for a, b in zip(a_inc, b_inc))}  median {median([a / b for a, b in zip(a_inc, b_inc)]):.2f}")
    print(f"A full / C (qemu-img convert):  {median(a_full) / median(c_full):.2f}  (reference)")
    print(f"A full / D (nbdcopy, same NBD hop):  {median(a_full) / median(d_full):.2f}  (reference)")
    targets = [
        (f"A/B incremental median ratio {ratio_ab:.2f} <= 1.0", ratio_ab <= 1.0),
        (f"peak RSS {peak_rss:.0f} MiB <= 200 MiB (4 GiB, 2 TiB and full runs: {max(a_inc_rss) / 1024:.0f} / {max(rss_big) / 1024:.0f} / {max(a_full_rss) / 1024:.0f} MiB)", peak_rss <= 200),
        (f"2 TiB / 1 GiB time ratio {ratio_scan:.2f} <= 1.5 (same 64 MiB dirty)", ratio_scan <= 1.5),
    ]
    for text, ok in targets:
        print(f"target {'HOLDS ' if ok else 'MISSED'}  {text}")

    if os.environ.get("LEVERS", "1") != "0":
        levers()
    shutil.rmtree(WORK, ignore_errors=True)


def levers():
    """Each setting alone against the defaults, on the incremental: paired runs in alternating order.

    Host write-back makes consecutive runs drift together (the same command takes 0.9 s or 2.4 s), so
    each lever run is paired with a default run next to it and the lever is judged on the median of
    the pairs' ratios, not on two medians taken at different times.
    """
    print()
    print(f"levers (incremental, {LEVER_ROUNDS} pairs each; ratio = median of lever/default over the pairs):")
    settings = [
        ["Export:MaxInFlight=4"], ["Export:MaxInFlight=16"], ["Export:MaxInFlight=32"],
        ["Export:RequestSize=256K"], ["Export:RequestSize=4M"],
        ["Daemon:CacheDirect=none"], ["Daemon:CacheDirect=all"],
    ]
    for setting in settings:
        base, lever = [], []
        try:
            for round in range(LEVER_ROUNDS):
                for which in (("base", "lever") if round % 2 == 0 else ("lever", "base")):
                    remove("l.qcow2")
                    if which == "base":
                        base.append(export_incremental("l.qcow2")[0])
                    else:
                        lever.append(export_incremental("l.qcow2", "disk.qcow2", "ck", "full.qcow2", *setting)[0])
                        compare("l.qcow2", "disk.qcow2")
        except subprocess.CalledProcessError as failure:
            print(f"  {' '.join(setting):<44} refused or failed (exit code {failure.returncode}; see the message above)")
            continue
        paired = median([l / b for l, b in zip(lever, base)])
        print(f"  {' '.join(setting):<44} {median(lever):6.2f} s  vs default {median(base):6.2f} s  (paired {paired:.2f}x)")
    remove("l.qcow2")


if __name__ == "__main__":
    main()
