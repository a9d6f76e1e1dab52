#!/usr/bin/env bash
# Demo: builds a small two-layer VM disk, takes a full backup, changes the disk while "the VM is off",
# takes an incremental backup of only the changes, and proves both with qemu-img compare.
# Everything lives in ./.demo (removed and rebuilt on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
tool="$(pwd)/bin/offline-export"
demo="$(pwd)/.demo"
rm -rf "$demo"; mkdir -p "$demo/vm" "$demo/backups"
cd "$demo"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "1. A stopped VM's disk: a 1 GiB base image with an overlay on top (a 2-layer chain)"
run qemu-img create -q -f qcow2 vm/base.qcow2 1G
qemu-io -f qcow2 -c "write -P 0x11 0 48M" -c "write -P 0x12 512M 16M" vm/base.qcow2 >/dev/null
run qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 vm/vda.qcow2
qemu-io -f qcow2 -c "write -P 0x21 64M 8M" vm/vda.qcow2 >/dev/null
run qemu-img info --backing-chain vm/vda.qcow2 | grep -E "^image|virtual size|disk size|backing file:"

step "2. Start a checkpoint: a persistent dirty bitmap that records every later write"
run qemu-img bitmap --add --enable vm/vda.qcow2 ckpt-1

step "3. Full backup (point 0): a standalone, sparse qcow2, verified against the disk"
run "$tool" export vm/vda.qcow2 backups/vda.0.qcow2 --format qcow2 --verify

step "4. The VM runs for a while (here: qemu-io writes, a zeroed range and a discard), then stops again"
qemu-io -f qcow2 -c "write -P 0x31 4M 1M" -c "write -P 0x32 700M 256K" -c "write -z 8M 2M" -c "discard 512M 1M" vm/vda.qcow2 >/dev/null
echo "(4 MiB+1 MiB rewritten, 700 MiB+256 KiB new, 8-10 MiB zeroed, 512-513 MiB discarded)"

step "5. Incremental backup (point 1): only the clusters dirty in ckpt-1, as an overlay on point 0"
run "$tool" export vm/vda.qcow2 backups/vda.1.qcow2 --format qcow2 --bitmap ckpt-1 --backing backups/vda.0.qcow2 --verify

step "6. Proof: each backup chain equals the disk, byte for byte as the guest sees it"
run qemu-img compare -f qcow2 -F qcow2 backups/vda.1.qcow2 vm/vda.qcow2
run qemu-img check -q backups/vda.1.qcow2 && echo "qemu-img check: no errors"
run qemu-img info backups/vda.1.qcow2 | grep -E "^image|disk size|backing file"
printf '\nThe incremental holds %s of data clusters; the full backup holds %s.\n' \
  "$(qemu-img map --output=json backups/vda.1.qcow2 | python3 -c 'import json,sys; print(sum(e["length"] for e in json.load(sys.stdin) if e["depth"]==0 and e["data"])//1024, "KiB")')" \
  "$(qemu-img map --output=json backups/vda.0.qcow2 | python3 -c 'import json,sys; print(sum(e["length"] for e in json.load(sys.stdin) if e["depth"]==0 and e["data"])//1048576, "MiB")')"

step "7. The same, as a backup folder: two disks, checkpoint rotation, list, restore to any point"
run qemu-img create -q -f qcow2 vm/vdb.qcow2 256M
qemu-io -f qcow2 -c "write -P 0x41 0 32M" vm/vdb.qcow2 >/dev/null
run "$tool" backup vm/vda.qcow2 vm/vdb.qcow2 --format qcow2 --target backups/web1 --verify
qemu-io -f qcow2 -c "write -P 0x51 100M 2M" -c "write -z 0 1M" vm/vda.qcow2 >/dev/null
qemu-img convert -O qcow2 vm/vda.qcow2 vda-as-of-point-1.qcow2
run "$tool" backup vm/vda.qcow2 vm/vdb.qcow2 --target backups/web1 --keep-checkpoints 2
qemu-io -f qcow2 -c "write -P 0x61 200M 64K" vm/vda.qcow2 >/dev/null
run "$tool" backup vm/vda.qcow2 vm/vdb.qcow2 --target backups/web1
run "$tool" list backups/web1
run "$tool" info vm/vda.qcow2
run "$tool" restore backups/web1 restored-vda-1.qcow2 --disk vda --point 1
run qemu-img compare restored-vda-1.qcow2 vda-as-of-point-1.qcow2

echo
echo "Demo files are in $demo"
