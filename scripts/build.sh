#!/usr/bin/env bash
# Publishes the CLI as one native, self-contained file with NativeAOT: ./bin/offline-export.
# It needs no .NET runtime where it runs (only libc), and starts without a JIT.
# Building needs the .NET SDK, clang and zlib1g-dev (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
out="obj/publish-native"
rm -rf "$out"
dotnet publish src/OfflineExport.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out" --verbosity quiet --nologo
# Only the program: the stripped symbols (.dbg), the library's pdb and the XML docs stay in obj/.
rm -rf bin
mkdir -p bin
install -m 0755 "$out/offline-export" bin/offline-export
echo "build: $(pwd)/bin/offline-export $(./bin/offline-export --version) (native, $(du -h bin/offline-export | cut -f1))"
