package check

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/testns"
)

// The network tests only use 198.18.0.0/15 and 2001:db8::/32, and only
// inside a network namespace of their own (internal/testns).

// Addresses in the test namespace.
var (
	addr1     = netip.MustParseAddr("198.18.0.1")  // on lo
	addr2     = netip.MustParseAddr("198.18.0.2")  // on lo
	addr6     = netip.MustParseAddr("2001:db8::1") // on lo
	unrouted  = netip.MustParseAddr("198.18.0.99") // no route: "network is unreachable"
	blackhole = netip.MustParseAddr("198.18.254.1")
	// blackhole is routed to lo but assigned nowhere, and the namespace
	// does not forward: packets to it vanish without an ICMP error, so
	// probes of it can only time out.
	blackholeNet = "198.18.254.0/24"
)

// netSkip is why the network tests cannot run; "" when they can.
var netSkip string

func TestMain(m *testing.M) {
	code, reexeced, skip := testns.Enter("check", [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", addr1.String() + "/32", "dev", "lo"},
		{"addr", "add", addr2.String() + "/32", "dev", "lo"},
		{"addr", "add", addr6.String() + "/128", "dev", "lo", "nodad"},
		{"route", "add", blackholeNet, "dev", "lo"},
	})
	if reexeced {
		os.Exit(code)
	}
	netSkip = skip
	os.Exit(m.Run())
}

// needNet skips t unless it runs in the configured test namespace.
func needNet(tb testing.TB) {
	tb.Helper()
	if netSkip != "" {
		tb.Skip(netSkip)
	}
}

// probe runs c on t with timeout and checks it returns by the deadline.
func probe(tb testing.TB, c Checker, t Target, timeout time.Duration) Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	r := c.Probe(ctx, t)
	if took := time.Since(start); took > timeout+slack {
		tb.Errorf("probe of %v took %v, past its %v deadline", t, took, timeout)
	}
	return r
}

// slack is how far past its deadline a probe may return (scheduling,
// killing a process group; generous, as CI shares its CPUs with VMs).
const slack = 400 * time.Millisecond

// mustNew builds a checker or fails the test.
func mustNew(tb testing.TB, c model.Check) Checker {
	tb.Helper()
	ch, err := New(c)
	if err != nil {
		tb.Fatalf("New(%+v): %v", c, err)
	}
	return ch
}

// wantUp and wantDown check a result and that its message contains msg.
func wantUp(tb testing.TB, r Result, msg string) {
	tb.Helper()
	tb.Log(fmtResult(r))
	if !r.OK || !strings.Contains(r.Msg, msg) {
		tb.Errorf("got %s, want up with %q", fmtResult(r), msg)
	}
}

func wantDown(tb testing.TB, r Result, msg string) {
	tb.Helper()
	tb.Log(fmtResult(r))
	if r.OK || !strings.Contains(r.Msg, msg) {
		tb.Errorf("got %s, want down with %q", fmtResult(r), msg)
	}
	if r.Weight != -1 {
		tb.Errorf("down result has weight %d, want -1", r.Weight)
	}
}

func fmtResult(r Result) string {
	s := "down"
	if r.OK {
		s = "up"
	}
	return fmt.Sprintf("%s (weight %d, %q, %v)", s, r.Weight, r.Msg, r.Latency)
}

// listen opens a TCP listener in the test namespace.
func listen(tb testing.TB, addr netip.Addr) net.Listener {
	tb.Helper()
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// targetOf is the target of a listener.
func targetOf(a net.Addr) Target {
	ap := netip.MustParseAddrPort(a.String())
	return Target{Addr: ap.Addr(), Port: ap.Port()}
}

// unusedPort returns a TCP or UDP port on addr that nothing listens on.
func unusedPort(tb testing.TB, network string, addr netip.Addr) uint16 {
	tb.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", netip.AddrPortFrom(addr, 0).String())
		if err != nil {
			tb.Fatal(err)
		}
		defer c.Close()
		return targetOf(c.LocalAddr()).Port
	default:
		ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		if err != nil {
			tb.Fatal(err)
		}
		defer ln.Close()
		return targetOf(ln.Addr()).Port
	}
}
