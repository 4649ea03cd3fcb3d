# gatewatch — monitoring as code for API gateways.
GO       ?= go
BIN      := bin/gatewatch
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER ?= $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION) -X main.branch=$(BRANCH) \
	-X main.buildUser=$(BUILD_USER) -X main.buildDate=$(BUILD_DATE)
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

## demo: the main job on the bundled example, live until Ctrl-C (or for
## DEMO_SECONDS): a real KrakenD engine (Lura) in front of small backends, hey
## or built-in traffic, the sidecar, and where installed Prometheus and
## Alertmanager with the generated configuration paging a PagerDuty stand-in
demo: build
	@! $(GO) version -m $(BIN) | grep -q luraproject || { echo "$(BIN) links Lura: it must stay in demo/krakend"; exit 1; }
	$(GO) build -o bin/gatewatch-demo-krakend ./demo/krakend
	$(GO) build -o bin/gatewatch-demo ./demo
	DEMO_SECONDS=$(DEMO_SECONDS) ./scripts/demo.sh $(BIN) examples $(DEMO_OUT)

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

## compose-files: regenerate what the docker-compose stack mounts, one
## folder per profile in deploy/compose/generated/ (docs/quickstart.md)
COMPOSE_PROFILES_ALL := krakend kong envoy
.PHONY: compose-files
compose-files: build
	@for p in $(COMPOSE_PROFILES_ALL); do \
	  rm -rf deploy/compose/generated/$$p && \
	  $(BIN) generate all -c deploy/compose/$$p/gatewatch.yaml --output-dir deploy/compose/generated/$$p >/dev/null || exit 1; \
	done

clean:
	rm -rf bin out
