package hub

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// Sentinel errors of the hub. Match them with errors.Is.
var (
	// ErrHubStopped: the hub was stopped; nothing more can be spawned on it,
	// and greenlets it killed while stopping end with this cause.
	ErrHubStopped = errors.New("hub: hub stopped")
	// ErrNegativeDuration: a duration argument was negative.
	ErrNegativeDuration = errors.New("hub: negative duration")
	// ErrTimeout is matched by every *TimeoutError.
	ErrTimeout = errors.New("hub: timeout")
	// ErrGoexit: the greenlet's function called runtime.Goexit (a t.FailNow
	// inside a greenlet does). The greenlet ends with this error and the
	// hub carries on.
	ErrGoexit = errors.New("hub: greenlet called runtime.Goexit")
)

// PanicError is the result of a greenlet whose function panicked.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the panicking goroutine's stack at the point of recovery.
	Stack []byte
}

func newPanicError(v any) *PanicError {
	return &PanicError{Value: v, Stack: debug.Stack()}
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("hub: greenlet panicked: %v", e.Value)
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// killSignal is the panic value that carries a kill to the greenlet's next
// cooperative point.
type killSignal struct {
	g     *G
	cause error
}

func (k killSignal) String() string {
	return "hub: kill of " + k.g.Name() + ": " + k.cause.Error()
}

// IsKill reports whether r, a value returned by recover, is the hub's kill
// signal. Code that recovers panics inside a greenlet should re-panic such a
// value unless it means to survive the kill.
func IsKill(r any) bool {
	_, ok := r.(killSignal)
	return ok
}

// TimeoutError is the cause with which WithTimeout cancels its ctx. Each call
// makes its own, so nested timeouts can tell whose fired.
type TimeoutError struct {
	// After is the timeout's duration.
	After time.Duration
}

func (e *TimeoutError) Error() string { return fmt.Sprintf("hub: timeout after %v", e.After) }

// Is makes every TimeoutError match ErrTimeout and context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}
