package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/status"
	"github.com/luvs-lb/luvs/internal/testbed"
)

// bigConfig is services first..first+n-1, each with 10 real servers and no
// checks (their addresses need not exist).
func bigConfig(first, n int) string {
	return fmt.Sprintf(`
for i = %d, %d do
  local vs = { scheduler = "wrr", forward = "nat" }
  for j = 1, 10 do
    vs[#vs + 1] = real_server(("198.19.%%d.%%d:80"):format(j, i %% 250 + 1)) { weight = 1 }
  end
  virtual_server(("198.18.%%d.%%d:80"):format(100 + math.floor(i / 250), i %% 250 + 1))(vs)
end
`, first, first+n-1)
}

// exactly fails unless the lab's table is exactly what cfg asks for:
// nothing missing, nothing changed, no strays (apply --prune plans nothing).
func exactly(t *testing.T, lab *testbed.Lab, cfg string) {
	t.Helper()
	var out []byte
	waitFor(t, "the table to equal the configuration", 60*time.Second, func() bool {
		var err error
		out, err = exec.Command("ip", "netns", "exec", lab.Director, "luvs", "apply", "--dry-run", "--prune", cfg).CombinedOutput()
		return err == nil && strings.HasPrefix(string(out), "0 change(s) planned")
	})
}

// countTable returns the number of services and real servers in the lab's table.
func countTable(t *testing.T, lab *testbed.Lab) (services, dests int) {
	t.Helper()
	st, err := lab.IPVS().State()
	if err != nil {
		t.Fatal(err)
	}
	return len(st.Services), st.DestCount()
}

// kill9When kills the daemon with SIGKILL as soon as cond holds (polled
// without pause: an apply is over in a fraction of a second).
func kill9When(t *testing.T, d *daemon, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		select {
		case <-d.done:
			t.Fatalf("the daemon exited before %s:\n%s", what, d.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// TestKill9DuringApplyLeavesNoStrays: `kill -9` during the start-up apply
// of 1,000 x 10 and during a reload from A (services 0-999) to B
// (500-1499), each followed by a restart, leaves exactly B's table.
func TestKill9DuringApplyLeavesNoStrays(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	a, b := writeConfig(t, bigConfig(0, 1000)), writeConfig(t, bigConfig(500, 1000))
	ipvsC := lab.IPVS()

	d := startDaemon(t, lab, a, "--repair-interval", "0")
	kill9When(t, d, "the start-up apply to begin", func() bool {
		svcs, err := ipvsC.Services()
		return err == nil && len(svcs) > 0
	})
	svcs, dests := countTable(t, lab)
	t.Logf("killed during the start-up apply: %d services, %d real servers in the kernel", svcs, dests)
	if dests >= 10000 {
		t.Errorf("the kill came after the apply (%d real servers)", dests)
	}
	d = startDaemon(t, lab, a, "--repair-interval", "0")
	exactly(t, lab, a)

	// A reload to B, killed while it adds B's services (adds come first,
	// A's services are deleted last).
	good, _ := os.ReadFile(b)
	os.WriteFile(a, good, 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	kill9When(t, d, "the reload's apply to begin", func() bool {
		svcs, err := ipvsC.Services()
		return err == nil && len(svcs) > 1000
	})
	svcs, dests = countTable(t, lab)
	t.Logf("killed during the reload: %d services, %d real servers in the kernel", svcs, dests)
	if svcs >= 1500 && dests >= 15000 || svcs == 1000 {
		t.Errorf("the kill did not interrupt the reload (%d services, %d real servers)", svcs, dests)
	}
	d = startDaemon(t, lab, a, "--repair-interval", "0")
	exactly(t, lab, b)
	if !strings.Contains(d.logs.String(), "deleted a service an earlier run managed") {
		t.Errorf("the strays' deletion was not logged:\n%.2000s", d.logs.String())
	}
	if svcs, dests := countTable(t, lab); svcs != 1000 || dests != 10000 {
		t.Errorf("after the restart: %d services, %d real servers; want 1000 and 10000", svcs, dests)
	}
}

// everyKindConfig: two live web servers, and one dead server per check
// kind (backend 3's servers are stopped; 198.18.1.99 does not exist).
const everyKindConfig = `
defaults { scheduler = "wrr", forward = "nat", interval = "500ms", timeout = "300ms", rise = 2, fall = 2 }
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.2:80" { check = http {} },
  real_server "198.18.2.2:80" { check = http {} },
  real_server "198.18.3.2:80" { check = http { path = "/health" } },
  real_server "198.18.3.2:443" { check = https {} },
  real_server "198.18.3.2:81" { check = tcp {} },
  real_server "198.18.3.2:82" { check = udp { payload = "ping" } },
  real_server "198.18.3.2:53" { check = dns { name = "www.example.test" } },
  real_server "198.18.3.2:84" { check = exec { argv = { "/bin/false" } } },
  real_server "198.18.1.99:80" { check = ping {} },
}
`

var deadServers = []string{"198.18.3.2:80", "198.18.3.2:443", "198.18.3.2:81", "198.18.3.2:82", "198.18.3.2:53", "198.18.3.2:84", "198.18.1.99:80"}

// TestDrainedStaysDrainedEveryKind: a drained server stays drained, for
// every check kind, through SIGHUP, `luvs reload`, a broken reload and a
// restart, while a bounded client load sees no failed request.
func TestDrainedStaysDrainedEveryKind(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	lab.AddBackend(1)
	lab.AddBackend(2)
	lab.AddBackend(3).Stop()
	lab.AddVIP(addr("198.18.0.10"))
	cfg := writeConfig(t, everyKindConfig)
	d := startDaemon(t, lab, cfg)
	waitFor(t, "every dead server drained", 20*time.Second, func() bool {
		for _, s := range deadServers {
			if weightOf(lab, s) != 0 {
				return false
			}
		}
		return weightOf(lab, "198.18.1.2:80") == 1 && weightOf(lab, "198.18.2.2:80") == 1
	})

	// Watch the kernel: no dead server may get a weight again.
	var revived atomic.Value
	stopWatch, watchDone := make(chan struct{}), make(chan struct{})
	dead := map[string]bool{}
	for _, s := range deadServers {
		dead[s] = true
	}
	go func() {
		defer close(watchDone)
		c := lab.IPVS()
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(50 * time.Millisecond):
			}
			st, err := c.State()
			if err != nil {
				continue
			}
			for _, v := range st.Services {
				for _, x := range v.Dests {
					if dead[x.DestKey.String()] && x.Weight > 0 {
						revived.Store(fmt.Sprintf("%s weight %d", x.DestKey, x.Weight))
					}
				}
			}
		}
	}()
	var sent, failed atomic.Int32
	stopLoad, loadDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(loadDone)
		c := lab.HTTPClient(3 * time.Second)
		deadline := time.Now().Add(90 * time.Second)
		for n := 0; n < 3000 && time.Now().Before(deadline); n++ {
			select {
			case <-stopLoad:
				return
			default:
			}
			sent.Add(1)
			if _, err := lab.Get(c, url(addr("198.18.0.10"))); err != nil {
				failed.Add(1)
				t.Logf("request %d failed: %v", n, err)
			}
		}
	}()
	pause := func() { time.Sleep(1500 * time.Millisecond) }
	pause()
	d.cmd.Process.Signal(syscall.SIGHUP)
	pause()
	if out, err := exec.Command("ip", "netns", "exec", lab.Director, "luvs", "reload", "--socket", d.socket).CombinedOutput(); err != nil {
		t.Errorf("luvs reload: %v\n%s", err, out)
	}
	pause()
	good, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(good), "check = tcp {} },", "check = tcp {} ", 1)), 0o644)
	if out, err := exec.Command("ip", "netns", "exec", lab.Director, "luvs", "reload", "--socket", d.socket).CombinedOutput(); err == nil {
		t.Errorf("broken reload accepted:\n%s", out)
	}
	os.WriteFile(cfg, good, 0o644)
	pause()
	d.stop()
	d2 := startDaemon(t, lab, cfg)
	waitFor(t, "the restarted daemon", 10*time.Second, func() bool { return strings.Contains(d2.logs.String(), "luvs starting") })
	time.Sleep(3 * time.Second)
	close(stopLoad)
	<-loadDone
	close(stopWatch)
	<-watchDone
	t.Logf("client load: %d requests sent, %d failed", sent.Load(), failed.Load())
	if sent.Load() < 20 || failed.Load() != 0 {
		t.Errorf("%d requests sent, %d failed; want many sent and none failed", sent.Load(), failed.Load())
	}
	if r := revived.Load(); r != nil {
		t.Errorf("a dead server was put back into service: %s\n%s", r, d2.logs.String())
	}
	for _, s := range deadServers {
		if w := weightOf(lab, s); w != 0 {
			t.Errorf("%s has weight %d after the restart", s, w)
		}
	}
}

// TestSecondDaemonExits: a second `luvs run` on the same table exits 1
// within 5 s naming the first one's pid and changes nothing; `luvs apply`
// refuses while the daemon runs; a daemon in another namespace runs.
func TestSecondDaemonExits(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	lab.AddBackend(1)
	cfg := writeConfig(t, `virtual_server "198.18.0.10:80" { real_server "198.18.1.2:80" {} }`)
	d := startDaemon(t, lab, cfg)
	waitFor(t, "the service", 10*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 1 })
	before := lab.Run("ipvsadm", "-Sn")
	other := writeConfig(t, `virtual_server "198.18.0.11:80" { real_server "198.18.1.2:80" {} }`)
	start := time.Now()
	out, err := exec.Command("ip", "netns", "exec", lab.Director, "luvs", "run", "--socket", "", other).CombinedOutput()
	took := time.Since(start)
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), fmt.Sprintf("pid %d", d.cmd.Process.Pid)) {
		t.Errorf("second luvs run: %v\n%s", err, out)
	}
	t.Logf("the second daemon exited in %s: %s", took.Round(time.Millisecond), strings.TrimSpace(string(out)))
	if took > 5*time.Second {
		t.Errorf("the second daemon took %s to exit", took)
	}
	out, err = exec.Command("ip", "netns", "exec", lab.Director, "luvs", "apply", other).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--force") {
		t.Errorf("luvs apply under a running daemon: %v\n%s", err, out)
	}
	sameLines(t, "table after the refused second daemon and apply", before, lab.Run("ipvsadm", "-Sn"))

	// Another namespace is another table: its daemon runs.
	lab2 := testbed.NewLab(t)
	lab2.AddBackend(1)
	startDaemon(t, lab2, cfg)
	waitFor(t, "the second namespace's service", 10*time.Second, func() bool { return weightOf(lab2, "198.18.1.2:80") == 1 })
}

// TestHealthTransitionsReadNothing: at 1,000 x 10 with repair off, ten
// health transitions are applied without reading the kernel table again.
func TestHealthTransitionsReadNothing(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	b := lab.AddBackend(1)
	cfg := writeConfig(t, bigConfig(0, 999)+`
virtual_server "198.18.0.10:80" {
  scheduler = "wrr", forward = "nat",
  real_server "198.18.1.2:80" { check = tcp { interval = "300ms", timeout = "200ms", rise = 1, fall = 1 } },
}
`)
	d := startDaemon(t, lab, cfg, "--repair-interval", "0")
	waitFor(t, "the table", 60*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 1 })
	before := d.status(t)
	for i := 0; i < 10; i++ {
		want := 0
		if i%2 == 0 {
			b.Stop()
		} else {
			if err := b.Start(); err != nil {
				t.Fatal(err)
			}
			want = 1
		}
		waitFor(t, fmt.Sprintf("transition %d", i+1), 10*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == want })
	}
	after := d.status(t)
	t.Logf("10 transitions at 1,000 x 10: %d full table reads in all (%d before them), %d changes applied for them",
		after.TableReads, before.TableReads, after.OpsApplied-before.OpsApplied)
	if after.TableReads != 1 || after.OpsApplied-before.OpsApplied != 10 {
		t.Errorf("%d table reads (want 1, at start) and %d changes for 10 transitions", after.TableReads, after.OpsApplied-before.OpsApplied)
	}
}

// daemonStatus is the part of `luvs status` the tests read.
// daemonStatus is luvs status --json (the JSON the daemon's status package
// writes).
type daemonStatus = status.Status

func (d *daemon) status(t *testing.T) daemonStatus {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", d.ns, "luvs", "status", "--json", "--socket", d.socket).Output()
	if err != nil {
		t.Fatalf("luvs status: %v", err)
	}
	var st daemonStatus
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	return st
}

// TestReloadTime measures, at 1,000 x 10, the time from SIGHUP (one weight
// changed) to the change in the kernel, next to the Lua load alone (the
// daemon logs it). A measurement for the README, not a timed assertion.
func TestReloadTime(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	cfg := writeConfig(t, bigConfig(0, 1000))
	d := startDaemon(t, lab, cfg, "--repair-interval", "0")
	exactly(t, lab, cfg)
	src, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(src), "{ weight = 1 }", "{ weight = (i == 0 and j == 1) and 7 or 1 }", 1)), 0o644)
	c := lab.IPVS()
	svc, _ := model.ParseServiceKey("198.18.100.1:80")
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the new weight in the kernel", 30*time.Second, func() bool {
		ds, err := c.Dests(svc)
		if err != nil {
			return false
		}
		for _, x := range ds {
			if x.Weight == 7 {
				return true
			}
		}
		return false
	})
	reload := time.Since(start)
	waitFor(t, "the reload's log line", 10*time.Second, func() bool { return strings.Contains(d.logs.String(), "reload applied") })
	var load time.Duration
	for _, l := range lines(d.logs.String()) {
		if i := strings.Index(l, "load_time="); i >= 0 && strings.Contains(l, "reload applied") {
			load, _ = time.ParseDuration(strings.Fields(l[i+len("load_time="):])[0])
		}
	}
	if load == 0 {
		t.Fatalf("no reload with its load time in the log:\n%s", d.logs.String())
	}
	t.Logf("1,000 x 10, one weight changed: SIGHUP to the kernel %s, of which the Lua load %s (%.2fx the load)",
		reload.Round(time.Millisecond), load, float64(reload)/float64(load))
}
