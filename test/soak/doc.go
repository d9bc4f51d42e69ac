// Package soak runs one cached node in process under a bounded mixed load
// (every data type, TTLs, evictions under a small maxmemory, pub/sub) for a
// while, and checks that nothing fails and that neither goroutines nor
// memory grow. It builds only with the "soak" tag; SOAK_DURATION sets how
// long the load runs (default 20s):
//
//	go test -tags soak -v ./test/soak
//	SOAK_DURATION=3m go test -tags soak -v -timeout 10m ./test/soak
package soak
