package serve

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// Flags are the values of the flags every server example has.
type Flags struct {
	Serve       bool          // -serve: serve until a signal rather than check
	Addr        string        // -addr: where to listen (127.0.0.1:0 unless set)
	MaxHandlers int           // -max-handlers, in the programs that have it
	Grace       time.Duration // -grace: how long the stop lets work finish
}

// Command is a server example's command line: its name and the help texts
// of the common flags, which each program words for what it serves.
type Command struct {
	Name  string // names the flag set and prefixes the usage errors
	Addr  string // -addr's help text
	Grace string // -grace's help text
	// MaxHandlers is -max-handlers's help text; empty, the program has no
	// such flag (Flags.MaxHandlers stays 0).
	MaxHandlers string
	// MaxHandlersDefault is -max-handlers's default.
	MaxHandlersDefault int
}

// Parse parses args into f and the program's own flags, which own
// registers on the flag set. A positional argument is a usage error, and so
// is check's error (check, if not nil, runs once the flags are parsed). ok
// says the program goes on; otherwise status is its exit status: 0 after
// -help, 2 after a usage error, which Parse has written to stderr.
func (c Command) Parse(f *Flags, args []string, stderr io.Writer, own func(fs *flag.FlagSet), check func() error) (status int, ok bool) {
	err := c.parse(f, args, stderr, own, check)
	if errors.Is(err, flag.ErrHelp) {
		return 0, false
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2, false
	}
	return 0, true
}

func (c Command) parse(f *Flags, args []string, stderr io.Writer, own func(fs *flag.FlagSet), check func() error) error {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.Serve, "serve", false, "only serve, until SIGINT or SIGTERM")
	fs.StringVar(&f.Addr, "addr", "127.0.0.1:0", c.Addr)
	if c.MaxHandlers != "" {
		fs.IntVar(&f.MaxHandlers, "max-handlers", c.MaxHandlersDefault, c.MaxHandlers)
	}
	fs.DurationVar(&f.Grace, "grace", 5*time.Second, c.Grace)
	own(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", c.Name, fs.Arg(0))
	}
	if check != nil {
		return check()
	}
	return nil
}
