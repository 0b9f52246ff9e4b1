package bgp

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// The session tests only use 198.18.0.0/15 and 2001:db8::/32, and only
// inside a network namespace of their own: TestMain re-executes the test
// binary under `unshare --net` and configures the namespace's loopback
// (as internal/check does).
const (
	envNetns       = "LUVS_BGP_NETNS"        // "1" inside the test namespace
	envParentNetns = "LUVS_BGP_PARENT_NETNS" // the namespace we came from
)

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
	if os.Getenv(envNetns) == "" {
		if why := cannotUnshare(); why != "" {
			netSkip = why
			os.Exit(run(m))
		}
		os.Exit(reexec())
	}
	if why := setupNetns(); why != "" {
		netSkip = why
	}
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

// cannotUnshare says why the tests cannot run in a namespace of their own.
func cannotUnshare() string {
	if os.Geteuid() != 0 {
		return "session tests need root (to create a network namespace); run `go test` as root"
	}
	for _, c := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(c); err != nil {
			return "session tests need the " + c + " command: " + err.Error()
		}
	}
	if out, err := exec.Command("unshare", "--net", "--", "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("session tests need `unshare --net`, which failed: %v %s", err, strings.TrimSpace(string(out)))
	}
	return ""
}

// reexec runs this test binary again inside a fresh network namespace and
// returns its exit status.
func reexec() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bgp tests: cannot find the test binary:", err)
		return 1
	}
	ns, _ := os.Readlink("/proc/self/ns/net")
	cmd := exec.Command("unshare", append([]string{"--net", "--", self}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envNetns+"=1", envParentNetns+"="+ns)
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() >= 0 {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "bgp tests: unshare:", err)
		return 1
	}
	return 0
}

// setupNetns configures the test namespace, after making sure it is one:
// never the host's (or the container's) own.
func setupNetns() string {
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return "cannot read our network namespace: " + err.Error()
	}
	if init, err := os.Readlink("/proc/1/ns/net"); err == nil && init == ns {
		return envNetns + " is set but this is not a private network namespace; not touching it"
	}
	if parent := os.Getenv(envParentNetns); parent == "" || parent == ns {
		return envNetns + " is set but this is not a namespace created by the tests; not touching it"
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", luvsAddr + "/32", "dev", "lo"},
		{"addr", "add", routerAddr + "/32", "dev", "lo"},
		{"addr", "add", luvsAddr6 + "/128", "dev", "lo", "nodad"},
		{"addr", "add", routerAddr6 + "/128", "dev", "lo", "nodad"},
		{"route", "add", blackholeNet, "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Sprintf("ip %s: %v %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return ""
}

// needNet skips t unless it runs in the configured test namespace.
func needNet(tb testing.TB) {
	tb.Helper()
	if netSkip != "" {
		tb.Skip(netSkip)
	}
}
