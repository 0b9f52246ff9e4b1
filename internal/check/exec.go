package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/value"
)

// execChecker is keepalived's MISC_CHECK (misc_dynamic with
// DynamicWeight): run Argv, never through a shell, in its own process
// group, and judge by the exit status.
type execChecker struct {
	argv    []string
	dynamic bool
}

// maxStderr is how much of a script's stderr is kept.
const maxStderr = 4 << 10

// waitDelay bounds how long a probe waits, after the script exits or is
// killed, for its output pipes to close (a background child may hold them).
const waitDelay = 100 * time.Millisecond

var execSpec = &Spec{
	Kind: model.CheckExec, Doc: "Runs a program (no shell) and judges by its exit status.",
	Settings: []Setting{
		setting("argv", "non-empty list of strings", "Program and arguments, run without a shell, with the target in the environment. Exit 0 is up, 1 down.", false,
			func(c *model.Check) *[]string { return &c.Exec.Argv }, readArgv, identity[[]string]).documented("required"),
		boolSetting("dynamic_weight", "Exit codes 2..255 also mean up, with weight code − 2 (keepalived's `misc_dynamic`).",
			func(c *model.Check) *bool { return &c.Exec.DynamicWeight }),
	},
	part: func(c *model.Check) {
		if c.Exec == nil {
			c.Exec = &model.ExecCheck{}
		}
	},
	build: func(c model.Check) (prober, Problems) { return newExec(c.Exec) },
}

// readArgv reads a list of strings.
func readArgv(key string, v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a list of strings (no shell), got %s", key, value.TypeName(v))
	}
	argv := make([]string, 0, len(l))
	for i, a := range l {
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d] must be a string, got %s", key, i+1, value.TypeName(a))
		}
		argv = append(argv, s)
	}
	return argv, nil
}

// newExec validates an exec check's settings and builds its prober.
func newExec(c *model.ExecCheck) (*execChecker, Problems) {
	var ps Problems
	switch {
	case c.Argv == nil:
		ps.add("argv", "exec check needs argv = { \"/path/to/program\", \"arg\", ... }")
	case len(c.Argv) == 0:
		ps.add("argv", "argv is empty; give the program and its arguments")
	case c.Argv[0] == "":
		ps.add("argv", "argv[1] is empty; give the program to run")
	}
	for i, a := range c.Argv {
		if strings.IndexByte(a, 0) >= 0 {
			ps.add("argv", "argv[%d] %q has a NUL byte, which no program argument can hold", i+1, a)
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return &execChecker{argv: slices.Clone(c.Argv), dynamic: c.DynamicWeight}, nil
}

func (e *execChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	cmd := exec.CommandContext(ctx, e.argv[0], e.argv[1:]...)
	cmd.Env = append(os.Environ(),
		"LUVS_TARGET_ADDR="+t.Addr.String(),
		"LUVS_TARGET_PORT="+strconv.Itoa(int(t.Port)),
		"LUVS_TARGET="+t.String(),
	)
	stderr := &capWriter{max: maxStderr}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// At the deadline kill the whole process group: the script and
	// anything it started. Cancel runs before Wait reaps the script, so
	// its pid (the group id) cannot have been reused yet.
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	lat := time.Since(start)
	r := e.judge(ctx, cmd, err, stderr.firstLine(), start)
	r.Latency = lat
	return r
}

func (e *execChecker) judge(ctx context.Context, cmd *exec.Cmd, err error, errLine string, start time.Time) Result {
	ps := cmd.ProcessState
	switch {
	case ps != nil && ps.Exited():
		// judged below, even if the deadline passed meanwhile
	case ctx.Err() != nil:
		msg := ctxMsg(ctx, ctx.Err(), start)
		if cmd.Process != nil {
			msg += ", killed"
		}
		return down(withLine(msg, errLine))
	case ps != nil: // killed by a signal
		return down(withLine(ps.String(), errLine))
	default: // did not start
		var ee *exec.Error
		if errors.As(err, &ee) {
			return down(ee.Error())
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return down(pe.Op + " " + pe.Path + ": " + pe.Err.Error())
		}
		return down(err.Error())
	}
	code := ps.ExitCode()
	msg := withLine("exit status "+strconv.Itoa(code), errLine)
	switch {
	case code == 0:
		return up(msg)
	case code >= 2 && e.dynamic:
		r := up(msg)
		r.Weight = code - 2
		return r
	default:
		return down(msg)
	}
}

func withLine(msg, line string) string {
	if line == "" {
		return msg
	}
	return msg + ": " + line
}

// capWriter keeps the first max bytes written to it and discards the rest,
// so that a chatty script never blocks on its pipe.
type capWriter struct {
	max int
	buf bytes.Buffer
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// firstLine returns the first non-blank line written, trimmed.
func (w *capWriter) firstLine() string {
	for line := range strings.Lines(w.buf.String()) {
		if l := strings.TrimSpace(line); l != "" {
			return l
		}
	}
	return ""
}
