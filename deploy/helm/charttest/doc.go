// Package charttest checks the cached Helm chart without a cluster: it
// renders deploy/helm/cached with Helm's library for several value sets,
// decodes every object strictly into the Kubernetes API types, validates it
// against their schema, and asserts what the schema cannot (selectors,
// ports, names, security settings). It is a module of its own so that the
// server's go.mod does not carry Helm and client-go.
package charttest
