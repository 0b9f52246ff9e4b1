package check

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/proc"
	"github.com/luvs-lb/luvs/internal/value"
)

// execChecker is keepalived's MISC_CHECK (misc_dynamic with
// DynamicWeight): run Argv, never through a shell, in its own process
// group, and judge by the exit status.
type execChecker struct {
	argv    []string
	dynamic bool
	cred    *syscall.Credential // nil: as luvs
}

var execSpec = &Spec{
	Kind: model.CheckExec, Doc: "Runs a program (no shell) and judges by its exit status.",
	Settings: []Setting{
		setting("argv", "non-empty list of strings", "Program and arguments, run without a shell, with the target in the environment. Exit 0 is up, 1 down.", false,
			func(c *model.Check) *[]string { return &c.Exec.Argv }, value.Argv, identity[[]string]).documented("required"),
		boolSetting("dynamic_weight", "Exit codes 2..255 also mean up, with weight code − 2 (keepalived's `misc_dynamic`).",
			func(c *model.Check) *bool { return &c.Exec.DynamicWeight }),
		stringSetting("user", "user name or uid", "luvs's user", "Run the program as this user, with its primary group and no others (keepalived's `user`); luvs needs root for this.",
			func(c *model.Check) *string { return &c.Exec.User }),
		stringSetting("group", "group name or gid", "the user's group", "Run the program with this group (with `user`).",
			func(c *model.Check) *string { return &c.Exec.Group }),
	},
	part: func(c *model.Check) {
		if c.Exec == nil {
			c.Exec = &model.ExecCheck{}
		}
	},
	build: func(c model.Check) (prober, Problems) { return newExec(c.Exec) },
}

// newExec validates an exec check's settings and builds its prober.
func newExec(c *model.ExecCheck) (*execChecker, Problems) {
	var ps Problems
	if c.Argv == nil {
		ps.add("argv", "exec check needs argv = { \"/path/to/program\", \"arg\", ... }")
	}
	for _, msg := range proc.CheckArgv("argv", c.Argv) {
		if c.Argv != nil {
			ps.add("argv", "%s", msg)
		}
	}
	var cred *syscall.Credential
	switch {
	case c.User != "":
		var err error
		if cred, err = proc.Credential(c.User, c.Group); err != nil {
			key := "user"
			if strings.Contains(err.Error(), "group") {
				key = "group"
			}
			ps.add(key, "%v", err)
		}
	case c.Group != "":
		ps.add("group", "group needs user (the program's user)")
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return &execChecker{argv: slices.Clone(c.Argv), dynamic: c.DynamicWeight, cred: cred}, nil
}

func (e *execChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	pr := proc.RunAs(ctx, e.cred, e.argv,
		"LUVS_TARGET_ADDR="+t.Addr.String(),
		"LUVS_TARGET_PORT="+strconv.Itoa(int(t.Port)),
		"LUVS_TARGET="+t.String(),
	)
	lat := time.Since(start)
	r := e.judge(ctx, pr, start)
	r.Latency = lat
	return r
}

func (e *execChecker) judge(ctx context.Context, pr proc.Result, start time.Time) Result {
	ps, err, errLine := pr.State, pr.Err, pr.Stderr
	switch {
	case ps != nil && ps.Exited():
		// judged below, even if the deadline passed meanwhile
	case ctx.Err() != nil:
		msg := ctxMsg(ctx, ctx.Err(), start)
		if ps != nil {
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
