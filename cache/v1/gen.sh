#!/bin/sh
# gen.sh [DIR] regenerates cache/v1/cache.pb.go and cache/v1/cache_grpc.pb.go
# from cache/v1/cache.proto under DIR (default: the repository root). It
# needs Debian's protobuf-compiler and the plugins at the versions pinned in
# generate.go, found on PATH or in $(go env GOPATH)/bin.
set -eu
cd "$(dirname "$0")/../.."
out=${1:-.}
bin=$(go env GOPATH)/bin
plugin() { command -v "$1" 2>/dev/null || echo "$bin/$1"; }
exec protoc -I . \
	--plugin=protoc-gen-go="$(plugin protoc-gen-go)" \
	--plugin=protoc-gen-go-grpc="$(plugin protoc-gen-go-grpc)" \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
	cache/v1/cache.proto
