// Package ring maps keys to Redis Cluster hash slots and slots to the
// members that own them, and lists the slots that move between two member
// sets.
//
// It is pure: no goroutines, I/O or clock. A Ring is immutable; a node
// builds a new one for each membership change and swaps it in.
package ring
