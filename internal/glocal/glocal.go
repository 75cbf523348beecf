// Package glocal is the hub's greenlet-local storage, for the packages beside
// hub that build on it: local's Local[T], and the pool maps and HTTP server
// that run several units of work on one greenlet. Users reach the storage
// through package local; package hub fills in these functions when it is
// initialised (it imports this package; this package imports nothing of
// the library), so they are never nil once hub is linked in.
//
// Every function acts on the greenlet ctx carries and reports, as green,
// whether there is one; outside a greenlet they do nothing.
package glocal

import "context"

// Inheritable is implemented by a key whose values are copied into every
// greenlet spawned by a greenlet that holds one, at spawn time, while
// InheritLocal returns true.
type Inheritable interface{ InheritLocal() bool }

var (
	// Load returns the value stored under key.
	Load func(ctx context.Context, key any) (v any, ok, green bool)
	// Store stores v under key; a dead greenlet keeps nothing.
	Store func(ctx context.Context, key, v any) (green bool)
	// Delete removes the value stored under key.
	Delete func(ctx context.Context, key any) (green bool)
	// Clear drops every value, as if the greenlet had just started.
	Clear func(ctx context.Context)
)
