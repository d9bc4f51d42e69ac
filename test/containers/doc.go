// Package containers tests the cached image as users run it: three
// containers on a private Docker network, a node killed, a node cut off
// and reconnected, and a rolling restart under a writer. The tests need a
// Docker engine and the image (make image); they build only with the
// "containers" tag:
//
//	make container-test
//	CACHED_IMAGE=cached:dev go test -tags containers -v ./test/containers
//
// Clients run on the host and reach the nodes through ports published on
// 127.0.0.1; the nodes talk to each other on their own networks only.
package containers
