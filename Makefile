# Autonomous CI — the project's commands. `make test` is what CI runs (.ci/run).
GO ?= go

.PHONY: test run build lint bench

# All tests. Postgres tests run when TEST_DATABASE_URL is set and skip otherwise.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

run:
	$(GO) run ./cmd/autonomous serve

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o autonomous ./cmd/autonomous

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...
	staticcheck ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
