#!/usr/bin/env bash
# Runs the unit and the integration tests (real qemu) and ends with one line:
#   N passed, N failed[, N skipped]
set -uo pipefail
cd "$(dirname "$0")/.."
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

# The CLI tests run the shipped program: the native binary make build publishes.
scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
export TEST_OFFLINE_EXPORT_PROGRAM="$(pwd)/bin/offline-export"

status=0
projects=(tests/OfflineExport.Tests tests/OfflineExport.Cli.Tests tests/OfflineExport.IntegrationTests)
for project in "${projects[@]}"; do
  name="$(basename "$project")"
  echo "== $name"
  dotnet test "$project" -c Release --nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" "$@" \
    2>&1 | tee "$results/$name.log" | grep -E "^\s*(Failed|Passed!|Failed!|error)" || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

# Count from the TRX files (one per project); a project that did not build counts as one failure.
read -r passed failed skipped < <(python3 - "$results" "${#projects[@]}" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
p = f = s = 0
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
files = glob.glob(sys.argv[1] + "/*.trx")
for path in files:
    c = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    p += int(c.get("passed")); f += int(c.get("failed")) + int(c.get("error")) + int(c.get("timeout")) + int(c.get("aborted"))
    s += int(c.get("notExecuted"))
    for r in ET.parse(path).getroot().iter("{%s}UnitTestResult" % ns["t"]):
        if r.get("outcome") not in ("Passed", "NotExecuted"):
            # The whole assertion message (it names the actual exception) and the top of the stack.
            message = r.find("t:Output/t:ErrorInfo/t:Message", ns)
            stack = r.find("t:Output/t:ErrorInfo/t:StackTrace", ns)
            lines = (message.text or "").strip().splitlines()[:12] if message is not None else []
            lines += ["  at " + l.strip() for l in ((stack.text or "").strip().splitlines()[:8] if stack is not None else [])]
            print(f"FAILED {r.get('testName')}:", file=sys.stderr)
            for line in lines:
                print(f"    {line[:400]}", file=sys.stderr)
f += max(0, int(sys.argv[2]) - len(files))
print(p, f, s)
PY
)
[ "$failed" -eq 0 ] || status=1
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
