# make image   builds a static bin/cached on the host and the image $(IMAGE)
# make build   only the binary
# make test    go test -race ./...
# make container-test   the Docker tests (test/containers), on $(IMAGE)

IMAGE    ?= cached:dev
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CREATED  ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
GOFLAGS_BUILD = -trimpath -ldflags "-s -w -X main.version=$(VERSION)"

.PHONY: build image test container-test

build:
	CGO_ENABLED=0 go build $(GOFLAGS_BUILD) -o bin/cached ./cmd/cached

image: build
	mkdir -p bin/data
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
		--build-arg CREATED=$(CREATED) -t $(IMAGE) .

test:
	go test -race ./...

container-test: image
	CACHED_IMAGE=$(IMAGE) go test -tags containers -count=1 -v -timeout 10m ./test/containers
