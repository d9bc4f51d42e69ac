// Package cachepb is the generated Go code of cache/v1/cache.proto, the gRPC
// contract of cached (service cache.v1.Cache). Servers and clients import
// it; it imports only grpc and protobuf.
//
// The generated files are committed. Regenerate them with
//
//	go generate ./cache/v1
//
// which needs Debian's protobuf-compiler (protoc 3.21) and the plugins at
// the pinned versions:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
//
// TestGeneratedUpToDate fails when the committed files differ from what
// these produce.
package cachepb

//go:generate sh gen.sh
