package check

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/proc"
)

// script writes an executable sh script to a temporary directory.
func script(t *testing.T, body string) string {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	p := filepath.Join(t.TempDir(), "check.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func execCheck(dynamic bool, argv ...string) model.Check {
	return model.Check{Kind: model.CheckExec, Exec: &model.ExecCheck{Argv: argv, DynamicWeight: dynamic}}
}

// The exec checker needs no network: these tests run anywhere.
func TestExec(t *testing.T) {
	tgt := Target{Addr: addr1, Port: 8080}
	exitWith := script(t, `echo "exiting $1" >&2; echo "second line" >&2; echo "to stdout"; exit $1`)

	t.Run("exit-0", func(t *testing.T) {
		r := probe(t, mustNew(t, execCheck(false, exitWith, "0")), tgt, 2*time.Second)
		wantUp(t, r, "exit status 0: exiting 0")
		if r.Weight != -1 {
			t.Errorf("weight %d, want -1", r.Weight)
		}
	})
	t.Run("exit-1", func(t *testing.T) {
		r := probe(t, mustNew(t, execCheck(true, exitWith, "1")), tgt, 2*time.Second)
		wantDown(t, r, "exit status 1: exiting 1")
		if strings.Contains(r.Msg, "second line") {
			t.Errorf("message has more than the first line of stderr: %q", r.Msg)
		}
	})
	t.Run("dynamic-weight", func(t *testing.T) {
		r := probe(t, mustNew(t, execCheck(true, exitWith, "5")), tgt, 2*time.Second)
		wantUp(t, r, "exit status 5")
		if r.Weight != 3 {
			t.Errorf("weight %d, want 3", r.Weight)
		}
		r = probe(t, mustNew(t, execCheck(true, exitWith, "2")), tgt, 2*time.Second)
		if !r.OK || r.Weight != 0 {
			t.Errorf("exit 2: got %s, want up with weight 0", fmtResult(r))
		}
		r = probe(t, mustNew(t, execCheck(true, exitWith, "255")), tgt, 2*time.Second)
		if !r.OK || r.Weight != 253 {
			t.Errorf("exit 255: got %s, want up with weight 253", fmtResult(r))
		}
		r = probe(t, mustNew(t, execCheck(true, exitWith, "0")), tgt, 2*time.Second)
		if !r.OK || r.Weight != -1 {
			t.Errorf("exit 0: got %s, want up with weight -1", fmtResult(r))
		}
	})
	t.Run("no-dynamic-weight", func(t *testing.T) {
		wantDown(t, probe(t, mustNew(t, execCheck(false, exitWith, "5")), tgt, 2*time.Second), "exit status 5: exiting 5")
	})
	t.Run("env-and-argv", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		s := script(t, `printf '%s|%s|%s|%s|%s|%s' "$LUVS_TARGET_ADDR" "$LUVS_TARGET_PORT" "$LUVS_TARGET" "$1" "$#" "$LUVS_TEST_INHERITED" > "$2"`)
		t.Setenv("LUVS_TEST_INHERITED", "yes")
		arg := `$HOME; echo "not a shell" *`
		c := mustNew(t, execCheck(false, s, arg, out))
		for _, tc := range []struct {
			tgt  Target
			want string
		}{
			{tgt, "198.18.0.1|8080|198.18.0.1:8080|" + arg + "|2|yes"},
			{Target{Addr: addr6, Port: 53}, "2001:db8::1|53|[2001:db8::1]:53|" + arg + "|2|yes"},
		} {
			wantUp(t, probe(t, c, tc.tgt, 2*time.Second), "exit status 0")
			got, err := os.ReadFile(out)
			if err != nil || string(got) != tc.want {
				t.Errorf("script saw %q (%v), want %q", got, err, tc.want)
			}
		}
	})
	t.Run("not-found", func(t *testing.T) {
		wantDown(t, probe(t, mustNew(t, execCheck(false, "/nonexistent/check")), tgt, time.Second), "no such file or directory")
		wantDown(t, probe(t, mustNew(t, execCheck(false, "luvs-no-such-command")), tgt, time.Second), "executable file not found")
	})
	t.Run("signal", func(t *testing.T) {
		wantDown(t, probe(t, mustNew(t, execCheck(false, script(t, `kill -TERM $$`))), tgt, time.Second), "signal: terminated")
	})
	t.Run("chatty-stderr", func(t *testing.T) {
		s := script(t, `i=0; while [ $i -lt 2000 ]; do echo "line $i of noise noise noise noise noise noise noise" >&2; i=$((i+1)); done; exit 1`)
		r := probe(t, mustNew(t, execCheck(false, s)), tgt, 5*time.Second)
		wantDown(t, r, "exit status 1: line 0 of noise")
	})
	t.Run("timeout-kills-group", func(t *testing.T) {
		dir := t.TempDir()
		// The script, a background child and a foreground child all sleep;
		// none must outlive the probe.
		s := script(t, `echo $$ > "$1/sh"; sleep 30 & echo $! > "$1/bg"; echo started >&2; sleep 30 & echo $! > "$1/fg"; wait`)
		start := time.Now()
		r := probe(t, mustNew(t, execCheck(false, s, dir)), tgt, 500*time.Millisecond)
		took := time.Since(start)
		wantDown(t, r, "timeout after 500ms, killed: started")
		if took < 500*time.Millisecond {
			t.Errorf("probe returned after %v, before its deadline", took)
		}
		for _, name := range []string{"sh", "bg", "fg"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("script did not start: %v", err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if pid <= 0 {
				t.Fatalf("bad pid %q", b)
			}
			if !gone(pid, time.Second) {
				t.Errorf("%s process %d outlived the probe", name, pid)
			}
		}
	})
	t.Run("background-child-holding-stderr", func(t *testing.T) {
		// The script exits 0 at once but leaves a child holding its
		// stderr; the probe must not wait for the child.
		s := script(t, `sleep 30 & echo $! > "$1"; exit 0`)
		pidFile := filepath.Join(t.TempDir(), "pid")
		start := time.Now()
		r := probe(t, mustNew(t, execCheck(false, s, pidFile)), tgt, 5*time.Second)
		wantUp(t, r, "exit status 0")
		if took := time.Since(start); took > time.Second {
			t.Errorf("probe took %v", took)
		}
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
				killPid(pid)
			}
		}
	})
}

// gone reports whether process pid has exited (or is a zombie) within wait.
func gone(pid int, wait time.Duration) bool {
	for end := time.Now().Add(wait); ; {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		// state is the field after the parenthesised command name
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && strings.HasPrefix(string(b[i:]), ") Z") {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func killPid(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// TestExecAsUser: user and group drop luvs's identity for the program.
func TestExecAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change user")
	}
	if _, err := proc.Credential("nobody", "nogroup"); err != nil {
		t.Skip(err)
	}
	ids := `[ "$(id -u):$(id -g):$(id -G)" = "$WANT" ]`
	as := func(user, group, want string) Checker {
		return mustNew(t, model.Check{Kind: model.CheckExec, Exec: &model.ExecCheck{
			Argv: []string{"/bin/sh", "-c", "WANT=" + want + "; " + ids}, User: user, Group: group}})
	}
	tgt := Target{Addr: addr1, Port: 80}
	wantUp(t, probe(t, as("nobody", "", "65534:65534:65534"), tgt, 5*time.Second), "exit status 0")
	wantUp(t, probe(t, as("65534", "0", "65534:0:0"), tgt, 5*time.Second), "exit status 0")
	wantDown(t, probe(t, as("nobody", "", "0:0:0"), tgt, 5*time.Second), "exit status 1")
	for _, tc := range []struct{ user, group, want string }{
		{"no-such-user-here", "", "no user"},
		{"nobody", "no-such-group-here", "no group"},
		{"", "nogroup", "group needs user"},
	} {
		_, err := New(model.Check{Kind: model.CheckExec, Exec: &model.ExecCheck{Argv: []string{"/bin/true"}, User: tc.user, Group: tc.group}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("user %q group %q: %v, want %q", tc.user, tc.group, err, tc.want)
		}
	}
}
