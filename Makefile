# OfflineExport — see README.md
.PHONY: all setup build test unit-test integration-test demo bench clean

all: build

setup:
	@scripts/install-deps.sh

build: setup
	@scripts/build.sh

test: setup
	@scripts/test.sh

unit-test:
	dotnet test tests/OfflineExport.Tests && dotnet test tests/OfflineExport.Cli.Tests

integration-test:
	dotnet test tests/OfflineExport.IntegrationTests

demo: build
	@scripts/demo.sh

bench:
	@WITH_BENCH_TOOLS=1 scripts/install-deps.sh
	@scripts/build.sh
	@scripts/bench.sh

clean:
	rm -rf bin .demo .bench
	dotnet clean OfflineExport.sln --verbosity quiet
