# gatewatch — monitoring as code for API gateways.
GO       ?= go
BIN      := bin/gatewatch
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)
DEMO_OUT := out/demo

.PHONY: all build test vet demo bench bench-compare bench-compare-rules fuzz clean

all: build

## build: the static gatewatch binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gatewatch

## test: the whole suite (unit, golden, fuzz seeds, integration with the real
## Prometheus, promtool, Alertmanager and mtail when installed)
test: vet
	$(GO) test -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...

## demo: the main job on the bundled example (examples/)
demo: build
	$(GO) build -o bin/gen ./bench/gen
	./scripts/demo.sh $(BIN) examples $(DEMO_OUT)

## bench: the benchmarks recorded in docs/benchmarks.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./contract/... ./accesslog/ ./exporter/ ./sidecar/ ./tail/ ./shipper/ ./rules/ ./alerting/

## bench-compare: the sidecar's path against Debian's mtail on the same log
bench-compare: build
	./scripts/bench-compare.sh $(BIN)

## bench-compare-rules: rule evaluation cost of gatewatch's rules against
## Sloth's for the same N endpoints in Debian's Prometheus (N, HISTORY, LIVE)
bench-compare-rules: build
	./scripts/bench-compare-rules.sh $(BIN)

## fuzz: run each fuzz target briefly (FUZZTIME per target)
FUZZTIME ?= 15s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin out
