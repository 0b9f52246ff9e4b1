package luacheck

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/testlog"
	"go.uber.org/goleak"
)

// silentUDP is a UDP socket that never answers.
func silentUDP(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// fullTCP is a TCP port whose accept queue is full, so that a connect to
// it waits (its SYNs are dropped) until the caller gives up.
func fullTCP(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 8 { // fill the queue; later connects hang
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("could not fill a TCP accept queue")
	return ""
}

// startRunner runs src's checks until the returned stop is called.
func startRunner(t *testing.T, src string) (stop func(), logs *testlog.Buffer) {
	t.Helper()
	r, _, logs := loadRunner(t, src)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	return func() { cancel(); <-done }, logs
}

// A runner stopped while checks wait in every helper leaves no goroutine
// behind.
func TestStopLeavesNoGoroutines(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // (then the server notices the client leaving)
		<-r.Context().Done()        // answers never
	}))
	defer web.Close()
	udp, dnsServer, tcp := silentUDP(t), silentUDP(t), fullTCP(t)
	ignore := goleak.IgnoreCurrent()

	var b strings.Builder
	for i, call := range []string{
		`sleep("10s")`,
		`http.get("` + web.URL + `/")`,
		`http.post("` + web.URL + `/", "x")`,
		`tcp.connect("` + tcp + `", "10s")`,
		`udp.exchange("` + udp + `", "ping", "10s")`,
		`dns.query("` + dnsServer + `", "www.example.test", "A", "10s")`,
	} {
		fmt.Fprintf(&b, `virtual_server "198.18.0.%d:80" { real_server "198.18.1.1:80" {},
  healthcheck_interval = "20s", healthcheck_timeout = "10s",
  healthcheck = function(lvs, dests) log.info("waiting %d"); %s; log.info("returned %d") end }
`, i+1, i, call, i)
	}
	stop, logs := startRunner(t, b.String())
	for deadline := time.Now().Add(2 * time.Second); strings.Count(logs.String(), "waiting") < 6; {
		if time.Now().After(deadline) {
			t.Fatalf("checks did not start:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // into the helpers' I/O
	start := time.Now()
	stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("stopping took %s", d)
	}
	goleak.VerifyNone(t, ignore)
	if strings.Contains(logs.String(), "returned") {
		t.Errorf("a check went on after the runner stopped:\n%s", logs)
	}
}

// A helper is interrupted at the run's deadline: its I/O ends then, not when
// the helper's own time is up.
func TestHelperInterruptedAtDeadline(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	stop, logs := startRunner(t, `
virtual_server "198.18.0.1:80" { real_server "198.18.1.1:80" {},
  healthcheck_interval = "20s", healthcheck_timeout = "200ms",
  healthcheck = function(lvs, dests) sleep("10s") end }
`)
	defer stop()
	start := time.Now()
	for !strings.Contains(logs.String(), "health check timed out") {
		if time.Since(start) > time.Second {
			t.Fatalf("no timeout:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Only the runner itself is left (its loop and ticker).
	err := goleak.Find(ignore, goleak.IgnoreAnyFunction("github.com/luvs-lb/luvs/internal/luacheck.(*Runner).Run"))
	if err != nil {
		t.Errorf("after the deadline: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("sleep interrupted %s after the deadline, want < 0.5s", d)
	}
}
