// Package crash turns a panic — a bug in luvs — into an internal error with
// its own exit code, so that a crash never looks like rejected input (exit
// 2, which is also what the Go runtime uses for a panic nothing recovers).
package crash

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// ExitCode is the exit code of an internal error.
const ExitCode = 3

// Report writes the panic value v and the stack trace to w.
func Report(w io.Writer, v any) {
	fmt.Fprintf(w, "luvs: internal error: %v\n%s", v, debug.Stack())
}

// Guard, deferred at the top of a goroutine, reports a panic in it to
// standard error and exits with ExitCode.
func Guard() {
	if v := recover(); v != nil {
		Report(os.Stderr, v)
		os.Exit(ExitCode)
	}
}
