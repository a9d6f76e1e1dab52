#!/usr/bin/env bash
# Publishes the CLI as one framework-dependent file: ./bin/offline-export
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf bin
dotnet publish src/OfflineExport.Cli -c Release -r linux-x64 --self-contained false \
  -p:PublishSingleFile=true -p:PublishReadyToRun=true -o bin --verbosity quiet --nologo
echo "build: $(pwd)/bin/offline-export $(./bin/offline-export --version)"
