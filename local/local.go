// Package local provides greenlet-local storage: Local[T], the green-thread
// reading of Python's threading.local and gevent.local.
//
// Each greenlet sees its own value of a Local. A greenlet's values are
// dropped when it ends, even if something still references it. Two things go
// beyond gevent: an optional Init runs the first time each greenlet touches
// the Local (as gevent re-runs a local subclass's __init__ per greenlet), and
// an opt-in Inherit mode copies the spawning greenlet's value into each
// greenlet it spawns (what Trio and Python's contextvars give, and gevent
// lacks).
//
// The greenlet is the one carried by the ctx passed in (hub.Current). A ctx
// that carries no greenlet (the main goroutine, a plain goroutine,
// context.Background()) reaches one process-wide value per Local, shared by
// all such callers: the "main thread" value of threading.local.
package local

import (
	"context"
	"sync"

	_ "github.com/gevent-go/gevent/hub" // fills in glocal's functions
	"github.com/gevent-go/gevent/internal/glocal"
)

// Local is a greenlet-local variable of type T. The zero Local is ready to
// use, like a sync.Pool; set Init and Inherit before first use and do not
// change them afterwards. A Local must not be copied after first use.
//
// Get, Set and Delete never block and are not cooperative points. They are
// safe for concurrent use.
type Local[T any] struct {
	// Init, if not nil, gives a greenlet its first value: the first Get by
	// each greenlet that has no value calls Init with that greenlet's ctx
	// and stores the result. After a Delete, the next Get calls it again.
	// Init runs on the calling greenlet and must not use this Local. It is
	// also the first value outside any greenlet.
	Init func(ctx context.Context) T

	// Inherit makes every greenlet spawned by a greenlet that has a value
	// start with a copy of that value (copied as by assignment, so for a
	// pointer or a map both greenlets share what it points to). A greenlet
	// spawned from outside any greenlet inherits nothing.
	Inherit bool

	// The process-wide value seen outside any greenlet.
	mu    sync.Mutex
	outer T
	isSet bool
}

// key is the greenlet-local storage key of a Local. Its InheritLocal method
// is the hub's hook for copying a value into spawned greenlets.
type key[T any] struct{ l *Local[T] }

// InheritLocal reports whether values stored under k are copied into
// spawned greenlets.
func (k key[T]) InheritLocal() bool { return k.l.Inherit }

// Get returns the calling greenlet's value: what it last Set, else Init's
// result (stored for next time), else the zero value of T. After the
// greenlet has ended, Get returns Init's result (or the zero value) and
// stores nothing.
func (l *Local[T]) Get(ctx context.Context) T {
	k := key[T]{l}
	v, ok, green := glocal.Load(ctx, k)
	if !green {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.isSet && l.Init != nil {
			l.outer, l.isSet = l.Init(ctx), true
		}
		return l.outer
	}
	if ok {
		t, _ := v.(T) // a nil interface value stored for an interface T
		return t
	}
	var t T
	if l.Init != nil {
		t = l.Init(ctx)
		glocal.Store(ctx, k, t)
	}
	return t
}

// Set sets the calling greenlet's value to v. After the greenlet has ended,
// Set does nothing.
func (l *Local[T]) Set(ctx context.Context, v T) {
	if glocal.Store(ctx, key[T]{l}, v) {
		return
	}
	l.mu.Lock()
	l.outer, l.isSet = v, true
	l.mu.Unlock()
}

// Delete removes the calling greenlet's value, so that its next Get sees
// Init's result (or the zero value) again.
func (l *Local[T]) Delete(ctx context.Context) {
	if glocal.Delete(ctx, key[T]{l}) {
		return
	}
	var zero T
	l.mu.Lock()
	l.outer, l.isSet = zero, false
	l.mu.Unlock()
}
