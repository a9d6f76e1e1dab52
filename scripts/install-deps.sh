#!/usr/bin/env bash
# Installs what OfflineExport needs on Debian/Ubuntu: qemu-img/qemu-io/qemu-nbd (qemu-utils),
# qemu-storage-daemon (qemu-system-common), libvirt (libvirt-daemon-system, libvirt-clients, qemu-system-x86)
# for backup --domain and its tests, python3 (test summary, benchmark), script (tests of the
# terminal progress display), strace (tests that stop a run inside a qemu-img write), nbdcopy, libnbd-dev, virtnbdbackup and /usr/bin/time
# for the benchmark (libnbd-bin, libnbd-dev, virtnbdbackup, time), then
# clang and zlib1g-dev (NativeAOT's native link step for bin/offline-export), then
# restores the NuGet packages. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v qemu-img >/dev/null 2>&1 && command -v qemu-io >/dev/null 2>&1 || need+=(qemu-utils)
command -v qemu-storage-daemon >/dev/null 2>&1 || need+=(qemu-system-common)
if [ "${WITH_BENCH_TOOLS:-0}" = 1 ]; then
  command -v nbdcopy >/dev/null 2>&1 || need+=(libnbd-bin)
  [ -e /usr/include/libnbd.h ] || need+=(libnbd-dev)   # the bench's minimal libnbd client (nbd_pull.c)
  command -v virtnbdbackup >/dev/null 2>&1 || need+=(virtnbdbackup)
  [ -x /usr/bin/time ] || need+=(time)
fi
# libvirt, for backup --domain and its tests (a real libvirtd runs the test domains).
command -v virsh >/dev/null 2>&1 || need+=(libvirt-clients)
[ -x /usr/sbin/libvirtd ] || need+=(libvirt-daemon-system)
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v script >/dev/null 2>&1 || need+=(bsdutils)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The tests slow qemu-img's writes down with strace's fault injection, to stop a run in the middle of one.
command -v strace >/dev/null 2>&1 || need+=(strace)
# NativeAOT links the native binary with clang against zlib.
command -v clang >/dev/null 2>&1 || need+=(clang)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "install-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Debian's udev rule gives /dev/kvm to the kvm group (0660); without udev (a container) it stays 0600, and
# libvirtd then re-probes qemu on every domain definition (36 s each) because its probe, run as libvirt-qemu,
# never sees the KVM it sees itself as root.
if [ -c /dev/kvm ] && [ "$(id -u)" -eq 0 ] && [ "$(stat -c %a /dev/kvm)" = 600 ]; then
  chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
fi

command -v dotnet >/dev/null 2>&1 || { echo "install-deps: the .NET 10 SDK (dotnet) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }
dotnet restore OfflineExport.sln --verbosity quiet
echo "install-deps: $(qemu-img --version | head -1); $(qemu-storage-daemon --version | head -1); dotnet $(dotnet --version)"
