# Baton — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/baton
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# PKGS excludes Go files that npm packages ship inside node_modules.
PKGS = $(shell $(GO) list ./... | grep -v /node_modules/)
LDFLAGS := -s -w -X github.com/batonhq/baton/internal/cli.Version=$(VERSION)
# staticcheck 2026.2.2: pinned, and run with `go run` so there is nothing to install (the module proxy
# serves it once; the build cache keeps it). Move it forward with the Go version in go.mod.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help build run lint test test-go test-compat test-compat-postgres test-scale-out bench-postgres test-compat-matrix test-ui test-e2e test-fuzz vet fmt-check fuzz chaos soak bench bench-quick bench-blocks bench-blocks-quick bench-automations clean

help: ## Show this help
	@c=; r=; if [ -t 1 ] && [ -z "$$NO_COLOR" ]; then c='\033[36m'; r='\033[0m'; fi; \
	grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk -v c="$$c" -v r="$$r" 'BEGIN {FS = ":.*?## "}; {printf "  %s%-19s%s %s\n", c, $$1, r, $$2}'

build: ## Build the baton binary into bin/ (prints each package as it compiles)
	@echo "Building $(BIN); a first build downloads modules and compiles SQLite, which takes a few minutes." >&2
	$(GO) build -v -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/baton
	@echo "Built $(BIN) ($$(./$(BIN) version))." >&2

run: build ## Build and start the server on 127.0.0.1:4200 (SQLite in $BATON_HOME, default ~/.baton)
	./$(BIN) server start

vet: ## go vet
	$(GO) vet $(PKGS)

lint: ## staticcheck, pinned (config: staticcheck.conf)
	$(GO) run $(STATICCHECK) $(PKGS)

fmt-check: ## Fail if any Go file needs gofmt
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v /node_modules/)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test-go: ## Go tests with the race detector (then the timing tests it skips, without it)
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -count=1 -run '^TestRetentionDoesNotStallTheWriter$$' ./internal/store/sqlite
	$(GO) test -count=1 -run '^TestRunGraphAtTheNodeLimit$$' ./internal/api

test-compat: build ## Real Prefect client against a real baton (Python venv, pinned prefect)
	BATON_BIN=$(BIN) bash compat/run.sh

test-compat-postgres: build ## compat/ against Baton on PostgreSQL (a throwaway cluster; not in make test: see README)
	COMPAT_DATABASE=postgres BATON_BIN=$(BIN) bash compat/run.sh

test-scale-out: build ## Two replicas on one PostgreSQL, the leader SIGKILLed mid-run (compat/tests/test_scale_out.py)
	COMPAT_DATABASE=postgres COMPAT_WORKERS=0 BATON_BIN=$(BIN) bash compat/run.sh -k scale_out

bench-postgres: ## The Prefect server vs Baton with 1 and 2 replicas on one PostgreSQL, filter at 1M runs (~15 min; ARGS=--quick: ~3 min)
	bash bench/postgres.sh $(ARGS)

test-compat-matrix: build ## The compat suite against older Prefect clients (3.1.15 and 3.4.25; own venvs; not in make test)
	BATON_BIN=$(BIN) bash compat/matrix.sh

test-ui: ## Web UI: strict type check, lint, unit tests, and the committed build matches the sources
	cd ui && npm ci --no-audit --no-fund && npm run check
	bash ui/check-dist.sh

test-e2e: build ## Browser test of the UI (Debian's Chromium) against a real baton and real Prefect flows
	bash e2e/run.sh

test-fuzz: build ## schemathesis against Baton's own OpenAPI document, server and cloud mode, fixed seed (150 s)
	BATON_BIN=$(BIN) bash fuzz/run.sh --time 150

test: fmt-check vet lint test-go test-compat test-scale-out test-fuzz test-ui test-e2e ## The whole test suite (what CI runs)

fuzz: build ## Longer fuzzing: schemathesis for 15 min, then every Go fuzz target for 60 s (new corpus entries land in testdata/fuzz)
	BATON_BIN=$(BIN) bash fuzz/run.sh --time 900
	bash fuzz/go.sh 60

CHAOS_TRIALS ?= 8
chaos: build ## Real processes SIGKILLed at random moments: workers mid-run (CRASHED within the window), a slot holder (slot back when its lease lapses); ~5 min
	BATON_CHAOS=1 BATON_CHAOS_TRIALS=$(CHAOS_TRIALS) BATON_BIN=$(BIN) COMPAT_WORKERS=0 bash compat/run.sh -k test_chaos -s

SOAK_DURATION ?= 30m
SOAK_INTERVAL ?= 60s
soak: build ## Mixed load for SOAK_DURATION (default 30m) with short retention; RSS, WAL, DB size, fds, goroutines every SOAK_INTERVAL must plateau (soak/last-run.md)
	BATON_BIN=$(BIN) bash soak/soak.sh $(SOAK_DURATION) $(SOAK_INTERVAL)

bench: ## Baton vs the Prefect server, full run (~15-30 min): rewrites docs/benchmarks.md and the chart
	bash bench/run.sh --command "make bench"

bench-automations: ## Event → automation action latency with 100 automations at 10,000 events/s; writes docs/benchmarks-automations.md
	$(GO) run ./bench/automations -rate 10000,2000 -automations 100 -duration 60s -also-wal-max-mb 1024 -out docs/benchmarks-automations.md

bench-quick: ## The same benchmark with reduced sizes (under 3 minutes)
	bash bench/run.sh --quick --command "make bench-quick"

bench-blocks: ## Block.load()/Variable.get() latency at 8 clients, Prefect vs Baton (~5 min): docs/benchmarks-blocks.md
	bash bench/run.sh --blocks

bench-blocks-quick: ## The same with 30 calls per client (~2 min)
	bash bench/run.sh --blocks --quick

clean: ## Remove build outputs
	rm -rf bin
