# Vigil's Makefile is thin: each target is something a person does.
# The two set-up commands are `make run` and `make test` (see README.md).

GO          ?= go
STATICCHECK_VERSION := v0.8.2
TOOLS_DIR   ?= $(HOME)/.cache/vigil/tools
STATICCHECK := $(TOOLS_DIR)/staticcheck-$(STATICCHECK_VERSION)
BENCH_OUT   ?= bench/results.txt
# cmd/vigil's end-to-end tests take about 9 min under -race on 2 cores, near go test's
# default 10 min a package; a hang still ends well inside CI's 90 min.
TEST_TIMEOUT ?= 30m

.PHONY: run build test unit testbin lint fmt bench bench-ha soak fuzz clean

## run: run the scheduler on the embedded defaults (SQLite, local executor, example DAGs)
run: build
	./bin/vigil run --dags examples/dags

# The version every binary reports (vigil version, diag version, vigil_build_info);
# without it a build says devel-<revision>.
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null)
REVISION    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS     := -X github.com/vigilhq/vigil/internal/buildinfo.version=$(VERSION) -X github.com/vigilhq/vigil/internal/buildinfo.revision=$(REVISION)

## build: build vigil, diag, diag-vet (diag vet's checks as a go vet tool), kubectl-diag and its
## completion helper kubectl_complete-diag into ./bin, stamped with the version from git describe
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/vigil ./cmd/vigil
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/diag ./cmd/diag
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/diag-vet ./cmd/diag-vet
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/kubectl-diag ./cmd/kubectl-diag
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/kubectl_complete-diag ./cmd/kubectl_complete-diag

## test: lint, then every test with the race detector, against a real Kubernetes
## control plane (etcd, kube-apiserver, KWOK, toxiproxy) started on 127.0.0.1 for the run
test: lint testbin
	./testenv/kube/with-cluster.sh $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## unit: the tests without the control plane (tests that need it skip, saying so)
unit:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## testbin: build etcd, kube-apiserver, kube-scheduler, kube-controller-manager, KWOK,
## toxiproxy, Pyroscope, promtool and Alertmanager (API only) from the Go module proxy into ~/.cache/vigil/testbin (skipped when the
## pinned versions are already there; the control plane took ~11 min cold on 2 cores,
## Pyroscope 4.5 min with part of its modules already downloaded, promtool 15 min, Alertmanager ~4 min)
testbin:
	./testenv/kube/setup.sh

## lint: gofmt, go vet, staticcheck (installed at a pinned version)
lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) run ./cmd/diag vet ./...

$(STATICCHECK):
	mkdir -p $(TOOLS_DIR)
	GOBIN=$(TOOLS_DIR) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS_DIR)/staticcheck $(STATICCHECK)

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: the scheduler overhead benchmarks; results and CPU profile go to bench/
bench:
	./bench/run.sh $(BENCH_OUT)
	./bench/ha.sh bench/ha-results.txt

## bench-ha: the issue 7 figures (several schedulers on one PostgreSQL) to bench/ha-results.txt
bench-ha:
	./bench/ha.sh bench/ha-results.txt

## soak: the full fault soak (issue 9): R1 fault matrix at 500 tasks a fault, R2 50 SIGKILLs,
## PostgreSQL restarts, three schedulers with one killed, 500 tasks with evictions and an owner frozen 3 x 90 s (issue 16);
## history checked after each. About 55 min.
## `make test` runs the same scenarios reduced. Results to bench/soak-results.txt (see RELIABILITY.md).
soak: testbin
	./bench/soak.sh bench/soak-results.txt

## fuzz: run the DAG round-trip fuzzer for a minute
fuzz:
	$(GO) test ./scheduler/dag -run '^$$' -fuzz FuzzRoundTrip -fuzztime 60s

clean:
	rm -rf bin vigil.db vigil.db-wal vigil.db-shm vigil-data soak.log
