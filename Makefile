# wa-webhookd — every target works on a machine with only Node 20 and npm:
# Bun itself comes from the `bun` npm package (node_modules/.bin/bun).
.DEFAULT_GOAL := help
SHELL := /bin/bash

BUN         := node_modules/.bin/bun
BUN_VERSION := $(shell node -p "require('./package.json').devDependencies.bun")
VERSION     := $(shell node -p "require('./package.json').version")+$(shell git rev-parse --short HEAD 2>/dev/null || echo nogit)
# Workers are separate entrypoints, or the compiled binary cannot start them.
ENTRYPOINTS := src/main.ts src/writer/thread.ts src/store/checkpointer.worker.ts
SOURCES     := $(shell find src migrations -type f) package.json
BUILD_FLAGS := --compile --minify-syntax --minify-whitespace \
               --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
               --define 'WA_VERSION="$(VERSION)"'
DEPS        := node_modules/.package-lock.json
# The API reference UI at /docs (Scalar's standalone bundle) is embedded in the binary so
# the page works with no internet. Only that one file is needed, not the package's ~280 MB
# of dependencies: `npm pack` fetches the pinned tarball (npm checks its integrity) and the
# file's own hash is checked here.
SCALAR_VERSION := 1.72.1
SCALAR_SHA256  := bf091006bdc3af6067af77c2f534812e3e633e94a94e87138069f570f33b762c
SCALAR         := node_modules/.cache/wa-webhookd/scalar-standalone.asset
# The operator console (console/): bundled by Bun from its HTML entry and embedded.
CONSOLE        := node_modules/.cache/wa-webhookd/console.json
CONSOLE_SRC    := $(shell find console -type f) src/whatsapp/error-codes.ts src/events/summary.ts src/events/subject.ts src/whatsapp/phone-mention.ts

.PHONY: help deps build build-arm64 build-all release run test reliability typecheck check bench bench-processing bench-memory bench-disk bench-hardening bench-sweeper bench-postgres bench-console bench-threads clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

deps: $(DEPS) ## install dependencies (and Bun) from package-lock.json

$(DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: dist/wa-webhookd ## compile dist/wa-webhookd for this machine (linux-x64)

$(SCALAR): $(DEPS)
	@set -e; tmp=$$(mktemp -d); mkdir -p $(@D); \
	  (cd $$tmp && npm pack --silent @scalar/api-reference@$(SCALAR_VERSION) >/dev/null && tar xzf scalar-api-reference-*.tgz package/dist/browser/standalone.js); \
	  echo "$(SCALAR_SHA256)  $$tmp/package/dist/browser/standalone.js" | sha256sum --check --quiet; \
	  mv $$tmp/package/dist/browser/standalone.js $@; rm -rf $$tmp

$(CONSOLE): $(DEPS) $(CONSOLE_SRC)
	@mkdir -p $(@D)
	$(BUN) console/build.ts $@

dist/wa-webhookd: $(DEPS) $(SCALAR) $(CONSOLE) $(SOURCES)
	$(BUN) build $(BUILD_FLAGS) $(ENTRYPOINTS) --outfile $@

build-arm64: dist/release/wa-webhookd-linux-arm64 ## cross-compile dist/release/wa-webhookd-linux-arm64

# Release binaries: each Bun runtime comes from its npm package (npm checks its
# integrity), not from a download of our own. x64-baseline runs on CPUs without AVX2.
RELEASE_TARGETS := linux-x64 linux-x64-baseline linux-arm64
BUN_PKG_linux-x64          := @oven/bun-linux-x64
BUN_PKG_linux-x64-baseline := @oven/bun-linux-x64-baseline
BUN_PKG_linux-arm64        := @oven/bun-linux-aarch64
dist/release/wa-webhookd-%: $(DEPS) $(SCALAR) $(CONSOLE) $(SOURCES)
	@set -e; mkdir -p $(@D); tmp=$$(mktemp -d); \
	  (cd $$tmp && npm pack --silent $(BUN_PKG_$*)@$(BUN_VERSION) >/dev/null && tar xzf *.tgz); \
	  $(BUN) build $(BUILD_FLAGS) --target=bun-$* --compile-executable-path $$tmp/package/bin/bun \
	    $(ENTRYPOINTS) --outfile $@; \
	  rm -rf $$tmp

release: $(RELEASE_TARGETS:%=dist/release/wa-webhookd-%) ## dist/release/: linux-x64, linux-x64-baseline, linux-arm64 and SHA256SUMS
	cd dist/release && sha256sum $(RELEASE_TARGETS:%=wa-webhookd-%) > SHA256SUMS
	@cat dist/release/SHA256SUMS

build-all: build release ## the local binary and the release binaries

run: $(DEPS) $(SCALAR) $(CONSOLE) ## run from source on the embedded dev config (127.0.0.1:8080, ./data); PORT=9090 for another port
	$(BUN) src/main.ts $(if $(PORT),--listen 127.0.0.1:$(PORT))

# End-to-end tests wait on real processes and I/O: a generous per-test bound.
test: build ## run the test suite (unit + end-to-end against dist/wa-webhookd)
	$(BUN) test --timeout 60000

typecheck: $(DEPS) $(SCALAR) $(CONSOLE) ## type-check with tsc (strict): the daemon, and the console (DOM)
	node_modules/.bin/tsc --noEmit -p .
	node_modules/.bin/tsc --noEmit -p console

check: typecheck test ## typecheck, then the tests

bench: build ## ingestion, pipeline and processing against the bare server and the pinned reference build (bench/reference.ts), same run; ~6 min
	$(BUN) bench/ingest.ts
	$(BUN) bench/pipeline.ts
	$(BUN) bench/processing.ts

bench-processing: build ## processing alone: µs per event on both binaries and in process; ~2 min
	$(BUN) bench/processing.ts

bench-threads: build ## CPU per event of each daemon thread (writer, request, HTTP client) in a pipeline burst, against the pinned reference; ~2 min
	$(BUN) bench/threads.ts

bench-memory: build ## RSS idle, during and after 60 s of load, worker off and on, against the pinned reference; ~6 min
	$(BUN) bench/memory.ts

bench-postgres: build ## the PostgreSQL engine: 1, 2, 3 instances beside SQLite and the bare server; idle cost and wake-up latency; ~4 min
	$(BUN) bench/postgres.ts

bench-console: build ## the console's compressed weight and first render of the events search with 10,000 events stored (chromium); ~1 min
	$(BUN) bench/console.ts

bench-sweeper: build ## one sweep over 1,000,000 tracked messages; 10,000 SMS due at once under ingestion; ~3 min
	$(BUN) bench/sweeper.ts

# ENGINE=postgres: the same suite with every daemon on a fresh database of the PostgreSQL
# server at WA_TEST_PG_URL (default the local one, as in `make test`; test/support/engine.ts).
# Cases SQLite's by nature skip there, saying why; the disk-full and hardening files are
# SQLite's end-to-end tests (its file on a full disk, the file deleted or replaced, its lock)
# and stay out: PostgreSQL's counterparts are in test/e2e/postgres-cluster.test.ts (make test).
# SIZE=ci: the CI size instead (seconds per case), e.g. `make reliability ENGINE=postgres SIZE=ci`.
ENGINE ?= sqlite
SIZE   ?= full
RELIABILITY_FILES_sqlite   := test/reliability test/e2e/storage-failure.test.ts test/e2e/hardening.test.ts
RELIABILITY_FILES_postgres := test/reliability

reliability: build ## the reliability suite at full size (test/reliability + disk-full and slow-client cases); ~20 min, figures in docs/reliability.md; ENGINE=postgres: against PostgreSQL (~13 min); SIZE=ci: CI size
	@case "$(ENGINE)" in sqlite|postgres) ;; *) echo "make reliability: ENGINE must be sqlite or postgres, not '$(ENGINE)'" >&2; exit 2;; esac
	@case "$(SIZE)" in full|ci) ;; *) echo "make reliability: SIZE must be full or ci, not '$(SIZE)'" >&2; exit 2;; esac
	RELIABILITY=$(SIZE) WA_TEST_ENGINE=$(ENGINE) $(BUN) test --timeout 1200000 $(RELIABILITY_FILES_$(ENGINE))

bench-disk: build ## database bytes per event (20,000 messages + 20,000 statuses, delivered); for sizing
	$(BUN) bench/disk.ts

bench-hardening: build ## sustained load (backlog age) and one huge POST (ack latency); ~8 min
	$(BUN) bench/hardening.ts

clean: ## remove build output
	rm -rf dist bench/out
