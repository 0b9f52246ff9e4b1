package daemon

import (
	"context"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/model"
)

// notifySocket stands in for systemd: it sets NOTIFY_SOCKET to a datagram
// socket and returns the messages the daemon sends to it.
func notifySocket(t *testing.T) <-chan string {
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	msgs := make(chan string, 1000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	return msgs
}

// next returns the next message that is not a watchdog ping alone or a
// status refresh.
func next(t *testing.T, msgs <-chan string, what string) string {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-msgs:
			if !strings.HasPrefix(m, "WATCHDOG=1\n") && !strings.HasPrefix(m, "STATUS=") {
				return m
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// pings counts the watchdog pings that arrive within d.
func pings(msgs <-chan string, d time.Duration) int {
	n := 0
	timeout := time.After(d)
	for {
		select {
		case m := <-msgs:
			if strings.HasPrefix(m, "WATCHDOG=1\n") {
				n++
			}
		case <-timeout:
			return n
		}
	}
}

func TestSystemdNotify(t *testing.T) {
	msgs := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000") // pings every 50 ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(unix.Getpid()))
	l := newLab(t)
	l.write(config("198.18.0.1:80", "198.18.0.2:80"))
	d, stop := l.start(l.options())

	if m := next(t, msgs, "READY=1"); m != "READY=1\nSTATUS=2 services, 4 of 4 servers up" {
		t.Errorf("after the first apply: %q", m)
	}
	if n := pings(msgs, 500*time.Millisecond); n < 3 || n > 15 {
		t.Errorf("%d watchdog pings in 500 ms at WATCHDOG_USEC=100000", n)
	}

	// A reload: RELOADING=1 with the monotonic clock, then READY=1.
	l.write(config("198.18.0.1:80"))
	if err := d.Reload(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	m := next(t, msgs, "RELOADING=1")
	if !regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=[0-9]+\nSTATUS=reloading$`).MatchString(m) {
		t.Errorf("reload start: %q", m)
	} else {
		var now unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
			t.Fatal(err)
		}
		usec, _ := strconv.ParseInt(strings.TrimPrefix(strings.Split(m, "\n")[1], "MONOTONIC_USEC="), 10, 64)
		if ago := time.Duration(now.Nano()/1000-usec) * time.Microsecond; ago < 0 || ago > 5*time.Second {
			t.Errorf("MONOTONIC_USEC is %s from CLOCK_MONOTONIC", ago)
		}
	}
	if m := next(t, msgs, "READY=1 after the reload"); m != "READY=1\nSTATUS=1 services, 2 of 2 servers up" {
		t.Errorf("after the reload: %q", m)
	}

	// A rejected reload: the old configuration runs, the daemon is ready.
	l.write("virtual_server {")
	if err := d.Reload(context.Background(), "test"); err == nil {
		t.Fatal("a broken configuration was reloaded")
	}
	next(t, msgs, "RELOADING=1")
	if m := next(t, msgs, "READY=1 after the rejected reload"); !strings.HasPrefix(m, "READY=1\nSTATUS=1 services, 2 of 2 servers up; last reload rejected") {
		t.Errorf("after the rejected reload: %q", m)
	}

	// A stuck engine loop (here: an apply that does not return) stops the
	// pings, so that systemd restarts the daemon.
	gate := make(chan struct{})
	l.kernel.SetHook(func(model.Op) error { <-gate; return nil })
	l.write(config("198.18.0.1:80", "198.18.0.3:80"))
	reloaded := make(chan error, 1)
	go func() { reloaded <- d.Reload(context.Background(), "test") }()
	next(t, msgs, "RELOADING=1")
	pings(msgs, 150*time.Millisecond) // a ping under way when the loop stalled
	if n := pings(msgs, 400*time.Millisecond); n != 0 {
		t.Errorf("%d watchdog pings while the engine loop was stuck", n)
	}
	close(gate) // (then the hook returns at once: it can stay)
	if err := <-reloaded; err != nil {
		t.Fatal(err)
	}
	if m := next(t, msgs, "READY=1 after the stuck reload"); m != "READY=1\nSTATUS=2 services, 4 of 4 servers up" {
		t.Errorf("after the stuck reload: %q", m)
	}
	if n := pings(msgs, 300*time.Millisecond); n == 0 {
		t.Error("no watchdog pings once the loop runs again")
	}

	stop()
	if m := next(t, msgs, "STOPPING=1"); m != "STOPPING=1" {
		t.Errorf("on stop: %q", m)
	}
}

// Without NOTIFY_SOCKET nothing is sent and nothing fails.
func TestNoSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	l := newLab(t)
	l.write(config("198.18.0.1:80"))
	d, _ := l.start(l.options())
	if d.notify != nil {
		t.Error("a notifier without NOTIFY_SOCKET")
	}
	if err := d.Reload(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
}
