// Package proc runs the external programs a configuration names (exec
// checks, notify hooks): an argv without a shell, in its own process group
// that is killed whole at the deadline, with the first line of its stderr
// kept for the log.
package proc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxStderr is how much of a program's stderr is kept.
const maxStderr = 4 << 10

// waitDelay bounds how long Run waits, after the program exits or is
// killed, for the processes it started that still hold its stderr.
const waitDelay = 100 * time.Millisecond

// Result is how a program ended.
type Result struct {
	// State is the process's exit state; nil if it did not start.
	State *os.ProcessState
	// Stderr is the first non-blank line the program wrote to stderr.
	Stderr string
	// Err is Cmd.Run's error (nil on exit status 0).
	Err error
}

// Run runs argv with env added to this process's environment, until it
// exits or ctx is done (then its process group is killed).
func Run(ctx context.Context, argv []string, env ...string) Result {
	return RunAs(ctx, nil, argv, env...)
}

// RunAs is Run as the user and group of cred (nil: luvs's own), with no
// supplementary groups beyond cred's.
func RunAs(ctx context.Context, cred *syscall.Credential, argv []string, env ...string) Result {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	stderr := &capWriter{max: maxStderr}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	// At the deadline kill the whole process group: the program and
	// anything it started. Cancel runs before Wait reaps the program, so
	// its pid (the group id) cannot have been reused yet.
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	return Result{State: cmd.ProcessState, Stderr: stderr.firstLine(), Err: err}
}

// Credential looks up a user and, if given, a group (names or numbers) for
// RunAs; without a group, the user's primary group.
func Credential(userName, groupName string) (*syscall.Credential, error) {
	u, err := user.Lookup(userName)
	if err != nil {
		if u, err = user.LookupId(userName); err != nil {
			return nil, fmt.Errorf("no user %q on this system", userName)
		}
	}
	gid := u.Gid
	if groupName != "" {
		g, err := user.LookupGroup(groupName)
		if err != nil {
			if g, err = user.LookupGroupId(groupName); err != nil {
				return nil, fmt.Errorf("no group %q on this system", groupName)
			}
		}
		gid = g.Gid
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	g, err2 := strconv.ParseUint(gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %q has a uid or gid that is not a number", userName)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(g), Groups: []uint32{}}, nil
}

// CheckArgv validates an argv from a configuration; key names it in the
// messages.
func CheckArgv(key string, argv []string) []string {
	var msgs []string
	switch {
	case len(argv) == 0:
		msgs = append(msgs, fmt.Sprintf("%s is empty; give the program and its arguments", key))
	case argv[0] == "":
		msgs = append(msgs, fmt.Sprintf("%s[1] is empty; give the program to run", key))
	}
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			msgs = append(msgs, fmt.Sprintf("%s[%d] %q has a NUL byte, which no program argument can hold", key, i+1, a))
		}
	}
	return msgs
}

// capWriter keeps the first max bytes written to it and discards the rest,
// so that a chatty program never blocks on its pipe.
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
