"""Runs one command and measures it for the benchmark: wall time, the CPU of the process itself and of
the children it waited for (qemu-storage-daemon, qemu-img), and the peak RSS of the process tree.

The process is reaped only after its /proc/PID/stat is read as a zombie: that file still holds its
own utime/stime apart from its children's, which no rusage call separates.
"""
import os, subprocess, time

TICK = os.sysconf("SC_CLK_TCK")


class Measurement:
    def __init__(self, wall, cpu_self, cpu_children, peak_rss_kib):
        self.wall, self.cpu_self, self.cpu_children, self.peak_rss_kib = wall, cpu_self, cpu_children, peak_rss_kib


def run(args, stdout=None):
    """Runs `args` to the end (its stdout to the file `stdout`, else nowhere); a failure raises CalledProcessError."""
    start = time.monotonic()
    process = subprocess.Popen(args, stdout=stdout if stdout is not None else subprocess.DEVNULL)
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    wall = time.monotonic() - start
    with open(f"/proc/{process.pid}/stat") as stat:
        # Fields after the command name: utime, stime, cutime, cstime are the 12th-15th.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(f) / TICK for f in fields[11:15])
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise subprocess.CalledProcessError(code, args)
    return Measurement(wall, utime + stime, cutime + cstime, usage.ru_maxrss)
