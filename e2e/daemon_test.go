package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/testbed"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// daemon is a `luvs run` process in a director namespace.
type daemon struct {
	t      *testing.T
	ns     string // its network namespace
	cmd    *exec.Cmd
	logs   *testlog.Buffer
	socket string
	done   chan struct{}
}

func startDaemon(t *testing.T, lab *testbed.Lab, config string, extra ...string) *daemon {
	t.Helper()
	return startDaemonIn(t, lab.Director, config, extra...)
}

// startDaemonIn starts `luvs run config` in namespace ns, with its control
// socket at /run/NS.sock; it is stopped (SIGTERM) when the test ends.
func startDaemonIn(t *testing.T, ns, config string, extra ...string) *daemon {
	t.Helper()
	socket := filepath.Join("/run", ns+".sock")
	args := append([]string{"netns", "exec", ns, "luvs", "run", "--socket", socket, "--repair-interval", "1s"}, extra...)
	d := &daemon{t: t, ns: ns, logs: &testlog.Buffer{}, socket: socket, done: make(chan struct{})}
	d.cmd = exec.Command("ip", append(args, config)...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("luvs run logs:\n%s", d.logs.String())
		}
	})
	return d
}

func (d *daemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// waitFor polls cond until it holds or the timeout passes; it returns how
// long it took.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
	return 0
}

// weightOf returns a real server's weight in ipvsadm -Ln, or -1 if absent.
func weightOf(lab *testbed.Lab, server string) int {
	for _, l := range lines(lab.Run("ipvsadm", "-Ln")) {
		f := strings.Fields(l)
		if len(f) >= 4 && f[0] == "->" && f[1] == server {
			var w int
			fmt.Sscan(f[3], &w)
			return w
		}
	}
	return -1
}

func writeConfig(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "luvs.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const daemonConfig = `
defaults {
  scheduler = "wrr", forward = "nat",
  check = http { path = "/", interval = "500ms", timeout = "300ms", rise = 2, fall = 2 },
}
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.2:80" { weight = 2 },
  real_server "198.18.2.2:80" { weight = 2, on_fail = "%s", drain_timeout = "1s" },
  sorry_server = "198.18.3.2:80",
  quorum = 2,
}
`

// TestDaemonHealthChecks: a stopped backend is drained within
// fall x interval + timeout and restored after rise good checks;
// on_fail = "remove" removes; losing the quorum installs the sorry server.
func TestDaemonHealthChecks(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	b1, b2 := lab.AddBackend(1), lab.AddBackend(2)
	lab.AddBackend(3) // the sorry server
	lab.AddVIP(addr("198.18.0.10"))
	d := startDaemon(t, lab, writeConfig(t, fmt.Sprintf(daemonConfig, "remove")))
	waitFor(t, "the service", 10*time.Second, func() bool { return weightOf(lab, "198.18.2.2:80") == 2 })

	// fall x interval + timeout = 1.3 s; allow for the emulated VM's pace.
	const bound = 1300 * time.Millisecond
	b1.Stop()
	took := waitFor(t, "backend1 drained", 5*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 0 })
	t.Logf("backend1 drained %s after it stopped (bound %s)", took.Round(time.Millisecond), bound)
	if took > bound+time.Second {
		t.Errorf("drain took %s, bound %s (+1 s)", took, bound)
	}
	if got := lab.Spread(url(addr("198.18.0.10")), 6); got["backend2"] != 6 {
		t.Errorf("with backend1 drained: %v", got)
	}
	if !strings.Contains(d.logs.String(), "real server down") {
		t.Errorf("no log line for the state change")
	}
	if err := b1.Start(); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, "backend1 restored", 5*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 2 })
	t.Logf("backend1 restored %s after it came back", took.Round(time.Millisecond))

	// on_fail = "remove": backend2 disappears from the table. Weight 2 of 2
	// still holds the quorum.
	b2.Stop()
	waitFor(t, "backend2 removed", 5*time.Second, func() bool { return weightOf(lab, "198.18.2.2:80") == -1 })
	if w := weightOf(lab, "198.18.3.2:80"); w != -1 {
		t.Errorf("sorry server present while the quorum holds")
	}
	// Both down: live weight 0 < quorum 2: only the sorry server remains.
	b1.Stop()
	waitFor(t, "sorry server", 5*time.Second, func() bool { return weightOf(lab, "198.18.3.2:80") == 1 })
	if got := lab.Spread(url(addr("198.18.0.10")), 4); got["backend3"] != 4 {
		t.Errorf("sorry server should answer everything: %v", got)
	}
	b1.Start()
	b2.Start()
	waitFor(t, "quorum back", 6*time.Second, func() bool {
		return weightOf(lab, "198.18.3.2:80") == -1 && weightOf(lab, "198.18.1.2:80") == 2 && weightOf(lab, "198.18.2.2:80") == 2
	})
}

// TestDaemonRepairsAndReload: changes made with ipvsadm behind the daemon's
// back are repaired; a broken reload changes nothing and the old
// configuration keeps running; a good reload applies only the difference.
func TestDaemonRepairsAndReload(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	lab.AddBackend(1)
	lab.AddBackend(2)
	lab.AddVIP(addr("198.18.0.10"))
	cfg := writeConfig(t, fmt.Sprintf(daemonConfig, "drain"))
	d := startDaemon(t, lab, cfg, "--metrics", "198.18.200.1:9477")
	waitFor(t, "the service", 10*time.Second, func() bool { return weightOf(lab, "198.18.2.2:80") == 2 })
	// A service luvs does not manage is never touched.
	lab.Run("ipvsadm", "-A", "-t", "198.18.0.99:80", "-s", "rr")
	lab.Run("ipvsadm", "-e", "-t", "198.18.0.10:80", "-r", "198.18.1.2:80", "-m", "-w", "9")
	waitFor(t, "repair", 5*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 2 })
	if !strings.Contains(d.logs.String(), "repaired a change made outside luvs") {
		t.Error("repair not logged")
	}
	if !strings.Contains(lab.Run("ipvsadm", "-Ln"), "198.18.0.99:80") {
		t.Error("the daemon deleted a service it does not own")
	}

	before := lab.Run("ipvsadm", "-Sn")
	good, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(good), `{ weight = 2 },`, `{ weight = 2 ,`, 1)), 0o644)
	out, err := exec.Command("ip", "netns", "exec", lab.Director, "luvs", "reload", "--socket", d.socket).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "luvs.lua:7:") {
		t.Errorf("broken reload: %v\n%s", err, out)
	}
	sameLines(t, "table after a rejected reload", before, lab.Run("ipvsadm", "-Sn"))
	if !strings.Contains(d.logs.String(), "reload rejected") {
		t.Error("rejected reload not logged")
	}
	os.WriteFile(cfg, []byte(strings.Replace(string(good), `{ weight = 2 },`, `{ weight = 5 },`, 1)), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "reload by SIGHUP", 5*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 5 })
	if !strings.Contains(d.logs.String(), "reload applied") {
		t.Error("reload not logged")
	}
	// Real requests through the VIP, then the web listener from the client
	// namespace: metrics (node_exporter's label names, the kernel's
	// counters), the status page and its JSON.
	if got := lab.Spread(url(addr("198.18.0.10")), 10); got["backend1"]+got["backend2"] != 10 {
		t.Errorf("requests through the VIP: %v", got)
	}
	var st struct {
		Services []struct {
			Service     string `json:"service"`
			Connections uint64 `json:"connections_total"`
			Servers     []struct {
				Server, State string
				KernelWeight  int `json:"kernel_weight"`
				Checks        []struct {
					Kind   string  `json:"kind"`
					LastOK bool    `json:"last_ok"`
					Took   float64 `json:"last_took_ms"`
				} `json:"checks"`
			} `json:"servers"`
		} `json:"services"`
	}
	// The kernel refreshes the counters it reports every 2 s.
	client := lab.HTTPClient(5 * time.Second)
	waitFor(t, "the kernel's counters", 5*time.Second, func() bool {
		js, err := lab.Get(client, "http://198.18.200.1:9477/api/v1/status")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(js), &st); err != nil || len(st.Services) != 1 || len(st.Services[0].Servers) != 2 {
			t.Fatalf("/api/v1/status: %v\n%s", err, js)
		}
		return st.Services[0].Connections >= 10
	})
	if sv := st.Services[0]; sv.Connections < 10 || sv.Servers[0].KernelWeight != 5 || sv.Servers[0].State != "up" ||
		len(sv.Servers[0].Checks) != 1 || !sv.Servers[0].Checks[0].LastOK || sv.Servers[0].Checks[0].Took <= 0 {
		t.Errorf("/api/v1/status: %+v", sv)
	}
	body, err := lab.Get(client, "http://198.18.200.1:9477/metrics")
	if err != nil {
		t.Fatal(err)
	}
	const b1 = `local_address="198.18.0.10",local_mark="",local_port="80",name="",proto="TCP",remote_address="198.18.1.2",remote_port="80",service_name=""`
	for _, want := range []string{
		`luvs_real_server_up{` + b1 + `} 1`,
		`luvs_real_server_state{` + b1 + `,state="up"} 1`,
		`luvs_real_server_weight{` + b1 + `} 5`,
		`luvs_real_server_configured_weight{` + b1 + `} 5`,
		`luvs_config_reloads_total{result="applied"} 1`,
		`luvs_config_reloads_total{result="rejected"} 1`,
		`luvs_config_last_reload_successful 1`,
		`luvs_repairs_total 1`,
		`luvs_service_connections_total{local_address="198.18.0.99",local_mark="",local_port="80",proto="TCP",service_name=""} 0`,
		`luvs_check_duration_seconds_count{kind="http"}`,
		`luvs_build_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if m := regexp.MustCompile(`luvs_service_connections_total\{local_address="198.18.0.10"[^}]*\} (\d+)`).FindStringSubmatch(body); m == nil || m[1] == "0" {
		t.Errorf("the kernel's connection counter for the VIP: %v", m)
	}
	page, err := lab.Get(client, "http://198.18.200.1:9477/")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h2>TCP 198.18.0.10:80</h2>", "<td>198.18.1.2:80</td>", `<span class="st st-up">up</span>`,
		"http: ok", "1 of 1 services shown"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
}

// TestNoFailedRequestsAcrossReloadAndRestart runs a bounded client load
// against the VIP while the daemon reloads and restarts: no request fails.
func TestNoFailedRequestsAcrossReloadAndRestart(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	lab.AddBackend(1)
	lab.AddBackend(2)
	lab.AddBackend(3)
	lab.AddVIP(addr("198.18.0.10"))
	cfg := writeConfig(t, fmt.Sprintf(daemonConfig, "drain"))
	d := startDaemon(t, lab, cfg)
	waitFor(t, "the service", 10*time.Second, func() bool { return weightOf(lab, "198.18.2.2:80") == 2 })

	var sent, failed int
	var mu sync.Mutex
	stopLoad := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		c := lab.HTTPClient(3 * time.Second)
		deadline := time.Now().Add(60 * time.Second)
		for n := 0; n < 2000 && time.Now().Before(deadline); n++ {
			select {
			case <-stopLoad:
				return
			default:
			}
			_, err := lab.Get(c, url(addr("198.18.0.10")))
			mu.Lock()
			sent++
			if err != nil {
				failed++
				t.Logf("request %d failed: %v", n, err)
			}
			mu.Unlock()
		}
	}()
	time.Sleep(time.Second)
	good, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(good), `{ weight = 2 },`, `{ weight = 3 },`, 1)), 0o644)
	if out, err := exec.Command("ip", "netns", "exec", lab.Director, "luvs", "reload", "--socket", d.socket).CombinedOutput(); err != nil {
		t.Errorf("reload: %v\n%s", err, out)
	}
	time.Sleep(time.Second)
	d.stop() // the table stays; traffic keeps flowing
	time.Sleep(time.Second)
	d2 := startDaemon(t, lab, cfg)
	waitFor(t, "the restarted daemon", 10*time.Second, func() bool { return strings.Contains(d2.logs.String(), "luvs starting") })
	time.Sleep(2 * time.Second)
	close(stopLoad)
	<-loadDone
	t.Logf("client load: %d requests sent, %d failed", sent, failed)
	if sent < 20 || failed != 0 {
		t.Errorf("%d requests sent, %d failed; want many sent and none failed", sent, failed)
	}
	if strings.Contains(d2.logs.String(), "add service") || strings.Contains(d2.logs.String(), "delete") {
		t.Errorf("the restarted daemon changed the table instead of adopting it:\n%s", d2.logs.String())
	}
}

// TestLuaHealthCheckSeedExample runs the ported mruby-ipvs example under
// `luvs run`: when web1's HTTP GET fails it is removed, and when fewer than
// two servers remain, 198.18.13.2 is added.
func TestLuaHealthCheckSeedExample(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	web1 := lab.AddBackend(11)
	lab.AddBackend(12)
	lab.AddBackend(13)
	lab.AddVIP(addr("198.18.0.10"))
	d := startDaemon(t, lab, filepath.Join(examplesDir(t), "seed.lua"))
	waitFor(t, "the service", 10*time.Second, func() bool {
		return weightOf(lab, "198.18.11.2:80") == 1 && weightOf(lab, "198.18.12.2:80") == 1
	})
	time.Sleep(2 * time.Second) // web1 is healthy: nothing changes
	if weightOf(lab, "198.18.13.2:80") != -1 {
		t.Fatalf("a third server was added while two were healthy:\n%s", lab.Run("ipvsadm", "-Ln"))
	}
	web1.Stop()
	waitFor(t, "web1 removed and 198.18.13.2 added", 10*time.Second, func() bool {
		return weightOf(lab, "198.18.11.2:80") == -1 && weightOf(lab, "198.18.13.2:80") == 1
	})
	if got := lab.Spread(url(addr("198.18.0.10")), 6); got["backend12"] != 3 || got["backend13"] != 3 {
		t.Errorf("after the script's changes: %v", got)
	}
	for _, want := range []string{"real server removed by health script", "real server added by health script"} {
		if !strings.Contains(d.logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestLuaHealthCheckErrorsAreContained: a check that loops forever or
// raises an error is logged with its position and the daemon keeps running.
func TestLuaHealthCheckErrorsAreContained(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	lab.AddBackend(1)
	cfg := writeConfig(t, `
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.2:80" {},
  healthcheck_interval = "500ms", healthcheck_timeout = "200ms",
  healthcheck = function(lvs, dests) while true do end end,
}
virtual_server "198.18.0.11:80" {
  real_server "198.18.1.2:80" {},
  healthcheck_interval = "500ms",
  healthcheck = function(lvs, dests) local x = nil; return x.y end,
}
`)
	d := startDaemon(t, lab, cfg)
	waitFor(t, "both errors logged", 10*time.Second, func() bool {
		l := d.logs.String()
		return strings.Contains(l, "luvs.lua:5: did not finish within 200ms (an endless loop?)") &&
			strings.Contains(l, "luvs.lua:10: attempt to index a non-table object(nil) with key 'y'")
	})
	select {
	case <-d.done:
		t.Fatalf("the daemon stopped:\n%s", d.logs.String())
	default:
	}
	if weightOf(lab, "198.18.1.2:80") != 1 {
		t.Errorf("table damaged:\n%s", lab.Run("ipvsadm", "-Ln"))
	}
}

// TestExecAndDNSChecks: an exec check (exit 0 up, 1 down, dynamic weights)
// and a DNS check drive the table.
func TestExecAndDNSChecks(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	b1, b2 := lab.AddBackend(1), lab.AddBackend(2)
	lab.AddVIP(addr("198.18.0.53"))
	dnsSrv, err := b2.StartDNS(map[string]netip.Addr{"www.example.test.": addr("198.18.9.9")})
	if err != nil {
		t.Fatal(err)
	}
	_ = b1
	dir := t.TempDir()
	script := filepath.Join(dir, "weight.sh")
	// The check prints nothing and exits with the code in a file: 0 up, 1 down, 2+N up with weight N.
	os.WriteFile(script, []byte("#!/bin/sh\nexit $(cat "+filepath.Join(dir, "code")+")\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "code"), []byte("0\n"), 0o644)
	cfg := writeConfig(t, fmt.Sprintf(`
defaults { forward = "nat", interval = "300ms", timeout = "250ms", rise = 1, fall = 1 }
virtual_server "198.18.0.53:80" {
  real_server "198.18.1.2:80" { weight = 4, check = exec { argv = { %q }, dynamic_weight = true } },
}
virtual_server "udp:198.18.0.53:53" {
  real_server "198.18.2.2:53" { check = dns { name = "www.example.test", type = "A", answer = "198.18.9.9" } },
}
`, script))
	d := startDaemon(t, lab, cfg)
	waitFor(t, "the services", 10*time.Second, func() bool {
		return weightOf(lab, "198.18.1.2:80") == 4 && weightOf(lab, "198.18.2.2:53") == 1
	})
	os.WriteFile(filepath.Join(dir, "code"), []byte("1\n"), 0o644)
	waitFor(t, "exec exit 1 drains", 5*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 0 })
	os.WriteFile(filepath.Join(dir, "code"), []byte("9\n"), 0o644)
	waitFor(t, "exec exit 9 sets weight 7", 5*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 7 })
	dnsSrv.Stop()
	waitFor(t, "DNS down drains", 5*time.Second, func() bool { return weightOf(lab, "198.18.2.2:53") == 0 })
	if !strings.Contains(d.logs.String(), "198.18.2.2:53") {
		t.Error("no log line for the DNS server going down")
	}
	dnsSrv2, err := b2.StartDNS(map[string]netip.Addr{"www.example.test.": addr("198.18.9.9")})
	if err != nil {
		t.Fatal(err)
	}
	defer dnsSrv2.Stop()
	waitFor(t, "DNS up restores", 5*time.Second, func() bool { return weightOf(lab, "198.18.2.2:53") == 1 })
}

// TestDaemonMemory runs the daemon on 1,000 services x 10 real servers, each
// with a TCP check, and reports its resident memory (target: under 100 MiB).
func TestDaemonMemory(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	var b strings.Builder
	b.WriteString("defaults { scheduler = \"wrr\", forward = \"dr\", check = tcp { interval = \"5s\", timeout = \"1s\" } }\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "virtual_server \"198.18.%d.%d:80\" {\n", 100+i/250, i%250+1)
		for j := 0; j < 10; j++ {
			k := i*10 + j
			fmt.Fprintf(&b, "  real_server \"198.19.%d.%d:80\" {},\n", k/250, k%250+1)
		}
		b.WriteString("}\n")
	}
	d := startDaemon(t, lab, writeConfig(t, b.String()))
	waitFor(t, "10,000 real servers", 60*time.Second, func() bool {
		return strings.Count(lab.Run("luvs", "save"), "\n-a ") == 10000
	})
	time.Sleep(12 * time.Second) // a few check rounds (every server fails: no route)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	var rss int
	for _, l := range lines(string(status)) {
		if strings.HasPrefix(l, "VmRSS:") {
			fmt.Sscan(strings.TrimPrefix(l, "VmRSS:"), &rss)
		}
	}
	t.Logf("luvs run with 1,000 services x 10 real servers x 1 check: RSS %d KiB (%.1f MiB)", rss, float64(rss)/1024)
	if rss == 0 || rss > 100*1024 {
		t.Errorf("RSS %d KiB, want under 100 MiB", rss)
	}
	select {
	case <-d.done:
		t.Fatalf("the daemon stopped:\n%s", d.logs.String())
	default:
	}
}

// TestCleanupOnExit: with --cleanup-on-exit the daemon removes its services
// when stopped (and only its own).
func TestCleanupOnExit(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	lab.Run("ipvsadm", "-A", "-t", "198.18.0.99:80", "-s", "rr")
	d := startDaemon(t, lab, writeConfig(t, `virtual_server "198.18.0.10:80" { real_server "198.18.1.2:80" {} }`), "--cleanup-on-exit")
	waitFor(t, "the service", 10*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 1 })
	d.stop()
	out := lab.Run("ipvsadm", "-Ln")
	if strings.Contains(out, "198.18.0.10:80") || !strings.Contains(out, "198.18.0.99:80") {
		t.Errorf("after stopping with --cleanup-on-exit:\n%s", out)
	}
}
