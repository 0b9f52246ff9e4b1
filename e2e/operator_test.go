package e2e

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/testbed"
)

const operatorConfig = `
defaults { scheduler = "wrr", forward = "nat", check = tcp { interval = "300ms", timeout = "200ms", rise = 1, fall = 2 } }
virtual_server "198.18.0.10:7000" {
  drain_timeout = "20s",
  real_server "198.18.1.2:7000" { weight = 2 },
  real_server "198.18.2.2:7000" { weight = 2 },
}
virtual_server "198.18.0.10:80" {
  slow_start = "3s",
  real_server "198.18.1.2:80" { weight = 10 },
  real_server "198.18.2.2:80" { weight = 10 },
}
`

// luvs runs a luvs command in the director's namespace and fails the test
// on an error.
func (d *daemon) luvs(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", d.ns, "luvs"}, append(args, "--socket", d.socket)...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("luvs %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestOperatorCommands: luvs server drain, maint, ready, weight, add and
// remove take effect within 1 s and last across a reload and a restart; a
// removed server with an open connection stays at weight 0 and keeps
// serving it until it closes, across a restart too (then leaves at the next
// connection count); a server
// made ready again ramps up (slow start).
func TestOperatorCommands(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	for i := 1; i <= 3; i++ {
		b := lab.AddBackend(i)
		if err := lab.StartEcho(b, 7000); err != nil {
			t.Fatal(err)
		}
	}
	lab.AddVIP(addr("198.18.0.10"))
	cfg := writeConfig(t, operatorConfig)
	d := startDaemon(t, lab, cfg)
	waitFor(t, "the services", 20*time.Second, func() bool {
		return weightOf(lab, "198.18.2.2:80") == 10 && weightOf(lab, "198.18.2.2:7000") == 2
	})
	// within runs a command and reports how long after it the kernel showed
	// the change; more than a second fails.
	within := func(what string, cond func() bool, args ...string) {
		t.Helper()
		out := d.luvs(t, args...)
		took := waitFor(t, what, 5*time.Second, cond)
		t.Logf("luvs %s: %s in the kernel %s after the command\n%s", strings.Join(args, " "), what, took.Round(time.Millisecond), strings.TrimSpace(out))
		if took > time.Second {
			t.Errorf("%s took %s, want within 1 s", what, took)
		}
	}

	within("drained in both services", func() bool {
		return weightOf(lab, "198.18.1.2:80") == 0 && weightOf(lab, "198.18.1.2:7000") == 0
	}, "server", "drain", "198.18.1.2")
	if st := d.luvs(t, "status"); !strings.Contains(st, "drain") || !strings.Contains(st, "10 → 0") {
		t.Errorf("luvs status does not show the drain:\n%s", st)
	}
	d.luvs(t, "reload")
	time.Sleep(time.Second)
	if w := weightOf(lab, "198.18.1.2:80"); w != 0 {
		t.Fatalf("after a reload the drained server has weight %d", w)
	}
	d.stop()
	d = startDaemon(t, lab, cfg)
	waitFor(t, "the restarted daemon", 20*time.Second, func() bool { return strings.Contains(d.logs.String(), "luvs starting") })
	time.Sleep(2 * time.Second)
	if w := weightOf(lab, "198.18.1.2:80"); w != 0 {
		t.Fatalf("after a restart the drained server has weight %d", w)
	}

	// ready: the first passing check brings it back, ramping (slow start).
	within("back up (weight 2 on :7000)", func() bool { return weightOf(lab, "198.18.1.2:7000") == 2 }, "server", "ready", "198.18.1.2")
	seen := map[int]bool{}
	took := waitFor(t, "the slow start to reach weight 10", 10*time.Second, func() bool {
		w := weightOf(lab, "198.18.1.2:80")
		seen[w] = true
		return w == 10
	})
	t.Logf("slow start over 3s: weights seen %v, full weight after %s", seen, took.Round(time.Millisecond))
	if len(seen) < 3 {
		t.Errorf("weights seen during the slow start: %v, want several steps from 1 to 10", seen)
	}

	within("in maintenance", func() bool { return weightOf(lab, "198.18.2.2:80") == 0 && weightOf(lab, "198.18.2.2:7000") == 2 },
		"server", "maint", "198.18.2.2:80", "--service", "198.18.0.10:80")
	within("out of maintenance", func() bool { return weightOf(lab, "198.18.2.2:80") > 0 }, "server", "ready", "198.18.2.2")
	within("weight 50%", func() bool { return weightOf(lab, "198.18.1.2:7000") == 1 }, "server", "weight", "198.18.1.2:7000", "50%")
	within("weight reset", func() bool { return weightOf(lab, "198.18.1.2:7000") == 2 }, "server", "weight", "198.18.1.2:7000", "reset")
	within("added", func() bool { return weightOf(lab, "198.18.3.2:7000") == 3 },
		"server", "add", "198.18.3.2:7000", "--service", "198.18.0.10:7000", "--weight", "3")

	// A long-lived connection to backend1 survives its removal.
	var conn *testbed.Conn
	for i := 0; i < 30 && conn == nil; i++ {
		c, err := lab.Dial(netip.MustParseAddrPort("198.18.0.10:7000"))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.Say("hello"); err == nil && strings.HasPrefix(got, "backend1:") {
			conn = c
			break
		}
		c.Close()
	}
	if conn == nil {
		t.Fatal("no connection reached backend1 in 30 tries")
	}
	defer conn.Close()
	within("removed server at weight 0, kept while its connection is open", func() bool { return weightOf(lab, "198.18.1.2:7000") == 0 },
		"server", "remove", "198.18.1.2:7000", "--service", "198.18.0.10:7000")
	for i := 0; i < 3; i++ {
		time.Sleep(time.Second)
		got, err := conn.Say(fmt.Sprint("still there ", i))
		if err != nil || !strings.HasPrefix(got, "backend1:") {
			t.Fatalf("the open connection after the removal: %q, %v", got, err)
		}
		if w := weightOf(lab, "198.18.1.2:7000"); w != 0 {
			t.Fatalf("the removed server with an open connection: weight %d, want 0 (kept)", w)
		}
	}
	// A restart in the middle of the drain goes on with it (leaving.json).
	d.stop()
	d = startDaemon(t, lab, cfg)
	waitFor(t, "the restarted daemon", 20*time.Second, func() bool { return strings.Contains(d.logs.String(), "luvs starting") })
	time.Sleep(time.Second)
	if got, err := conn.Say("after the restart"); err != nil || !strings.HasPrefix(got, "backend1:") {
		t.Fatalf("the open connection after a restart during its server's drain: %q, %v", got, err)
	}
	if w := weightOf(lab, "198.18.1.2:7000"); w != 0 || !strings.Contains(d.logs.String(), "from before the restart") {
		t.Fatalf("a restart during the drain: weight %d, want 0 (still draining, logged as from before the restart)", w)
	}
	conn.Close()
	took = waitFor(t, "the removed server gone", 10*time.Second, func() bool { return weightOf(lab, "198.18.1.2:7000") == -1 })
	t.Logf("the removed server left the table %s after its connection closed (drain_timeout 20s)", took.Round(time.Millisecond))
	if took > 3*time.Second || !strings.Contains(d.logs.String(), "real server drained") {
		t.Errorf("the removed server left %s after its last connection closed, want within about the 1 s count (and logged as drained)", took)
	}

	// A server no connection went through (nothing was sent to :80) leaves
	// at the first count, long before its drain timeout (the default 30 s).
	d.luvs(t, "server", "remove", "198.18.2.2:80", "--service", "198.18.0.10:80")
	took = waitFor(t, "the unused server gone", 5*time.Second, func() bool { return weightOf(lab, "198.18.2.2:80") == -1 })
	t.Logf("a removed server without connections left the table after %s", took.Round(time.Millisecond))
	if took > 2500*time.Millisecond {
		t.Errorf("a server without connections took %s to leave, want about the 1 s count", took)
	}
}
