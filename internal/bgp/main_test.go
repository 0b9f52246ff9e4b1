package bgp

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/luvs-lb/luvs/internal/testns"
)

// The session tests only use 198.18.0.0/15 and 2001:db8::/32, and only
// inside a network namespace of their own (internal/testns).

// Addresses on lo in the test namespace.
const (
	luvsAddr    = "198.18.0.1"  // the speaker under test
	routerAddr  = "198.18.0.2"  // the routers it peers with
	luvsAddr6   = "2001:db8::1" // the speaker under test, IPv6
	routerAddr6 = "2001:db8::2" // the routers, IPv6
	// blackholeAddr is routed to lo but assigned nowhere, and the
	// namespace does not forward: a SYN to it vanishes without an error.
	blackholeAddr = "198.18.254.1"
	blackholeNet  = "198.18.254.0/24"
	// unroutedAddr has no route: connecting to it fails at once.
	unroutedAddr = "198.18.99.1"
)

// netSkip is why the session tests cannot run; "" when they can.
var netSkip string

func TestMain(m *testing.M) {
	if os.Getenv(envRouter) != "" {
		os.Exit(routerMain()) // in the test namespace, already configured
	}
	code, reexeced, skip := testns.Enter("bgp", [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", luvsAddr + "/32", "dev", "lo"},
		{"addr", "add", routerAddr + "/32", "dev", "lo"},
		{"addr", "add", luvsAddr6 + "/128", "dev", "lo", "nodad"},
		{"addr", "add", routerAddr6 + "/128", "dev", "lo", "nodad"},
		{"route", "add", blackholeNet, "dev", "lo"},
	})
	if reexeced {
		os.Exit(code)
	}
	netSkip = skip
	os.Exit(run(m))
}

// run runs the tests and checks that no goroutine of GoBGP outlives them,
// but for the buffers of GoBGP's unbounded channels: GoBGP closes them and
// drains them without waiting, so the goroutine of one that still holds
// messages (a peer's last ones, the last events of a watch) stays blocked
// (see github.com/eapache/channels issue 27).
func run(m *testing.M) int {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("github.com/eapache/channels.(*InfiniteChannel).infiniteBuffer")); err != nil {
			fmt.Fprintln(os.Stderr, "bgp tests: leaked goroutines:", err)
			return 1
		}
	}
	return code
}

// needNet skips t unless it runs in the configured test namespace.
func needNet(tb testing.TB) {
	tb.Helper()
	if netSkip != "" {
		tb.Skip(netSkip)
	}
}
