package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/ipvsadm"
	"github.com/luvs-lb/luvs/internal/luaconf"
	"github.com/luvs-lb/luvs/internal/testbed"
)

// examplesDir finds examples/ from the repository (go test) or /opt/luvs (VM).
func examplesDir(t *testing.T) string {
	for _, d := range []string{"examples", "../examples"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			abs, _ := filepath.Abs(d)
			return abs
		}
	}
	t.Skip("examples directory not found")
	return ""
}

// TestApplyExamples applies every example configuration and checks that the
// kernel then holds exactly the table luvs check printed and the config
// describes; a second apply changes nothing.
func TestApplyExamples(t *testing.T) {
	needKernel(t)
	dir := examplesDir(t)
	for _, name := range []string{"web.lua", "ipv6.lua", "fwmark.lua", "dr.lua", "seed.lua", "multi.lua", "ecmp.lua"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			lab := testbed.NewLab(t)
			check := lab.Run("luvs", "check", path)
			out := lab.Run("luvs", "apply", path)
			t.Logf("luvs apply %s:\n%s", name, out)

			// The kernel equals the configuration (luvs save keeps the
			// thresholds that ipvsadm -Sn drops; its output matches ipvsadm's
			// otherwise, see TestEveryFieldReadsBack).
			res, err := luaconf.Load(path, luaconf.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			var want bytes.Buffer
			ipvsadm.Save(&want, ipvs.FromState(res.Config.State()))
			sameLines(t, "kernel table (luvs save) after luvs apply", want.String(), lab.Run("luvs", "save"))

			// luvs check printed the same services and real servers.
			listed := map[string]bool{}
			for _, l := range lines(lab.Run("ipvsadm", "-Ln"))[3:] {
				listed[tableEntry(l)] = true
			}
			for _, l := range lines(check)[3:] {
				if !isTableLine(l) {
					continue // healthcheck functions, bgp, sysctl, vrrp: not in the table
				}
				if e := tableEntry(l); !listed[e] {
					t.Errorf("luvs check printed %q, which ipvsadm -Ln does not show", e)
				}
			}

			if out := lab.Run("luvs", "apply", path); !strings.Contains(out, "0 change(s) applied") {
				t.Errorf("second apply changed something:\n%s", out)
			}
		})
	}
}

// isTableLine reports whether a line of luvs check is a service or a real
// server of the table.
func isTableLine(l string) bool {
	for _, p := range []string{"TCP ", "UDP ", "SCTP ", "FWM ", "  -> "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// tableEntry reduces a listing line to what luvs check and ipvsadm -Ln
// share: a service line without luvs's [quorum ...] note, or a real server
// as "-> ADDR FORWARD WEIGHT".
func tableEntry(line string) string {
	if strings.HasPrefix(line, "  -> ") {
		f := strings.Fields(line)
		return strings.Join(f[:min(4, len(f))], " ")
	}
	if i := strings.Index(line, "  ["); i > 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// TestApplyBrokenChangesNothing: a config with an error is rejected with
// exit code 2 and the kernel table stays as it was.
func TestApplyBrokenChangesNothing(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	lab.Run("luvs", "apply", filepath.Join(examplesDir(t), "web.lua"))
	before := lab.Run("ipvsadm", "-Sn")
	broken := filepath.Join(t.TempDir(), "broken.lua")
	os.WriteFile(broken, []byte(`virtual_server "198.18.0.10:80" {
  scheduler = "rr",
  real_server "198.18.11.2:80" { weight = 5 },
  real_server "198.18.12.2:80" { weight = 5 ,
}
`), 0o644)
	cmd := exec.Command("ip", "netns", "exec", lab.Director, "luvs", "apply", broken)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("luvs apply of a broken file: %v, want exit status 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "broken.lua:4:32: '{' opened here is never closed") {
		t.Errorf("message does not point at the unclosed brace:\n%s", out)
	}
	sameLines(t, "table after a rejected apply", before, lab.Run("ipvsadm", "-Sn"))
}

// TestApplyBalancesTraffic applies web.lua with real backends and sends
// requests through the VIP.
func TestApplyBalancesTraffic(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	for _, n := range []int{11, 12, 13} {
		lab.AddBackend(n)
	}
	lab.AddVIP(addr("198.18.0.10"))
	lab.Run("luvs", "apply", filepath.Join(examplesDir(t), "web.lua"))
	got := lab.Spread(url(addr("198.18.0.10")), 25)
	t.Logf("web.lua, weights 3:1:1: %v", got)
	if got["backend11"] != 15 || got["backend12"] != 5 || got["backend13"] != 5 {
		t.Errorf("want 15/5/5 for weights 3:1:1, got %v", got)
	}
}

// TestExecSeedExample runs the mruby-ipvs imperative example with luvs exec:
// a service, two real servers, and a live weight change.
func TestExecSeedExample(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	out := lab.Run("luvs", "exec", filepath.Join(examplesDir(t), "seed_exec.lua"))
	t.Logf("luvs exec output:\n%s", out)
	listed := lab.Run("ipvsadm", "-Ln")
	for _, want := range []string{"TCP  198.18.0.10:80 wrr", "198.18.11.2:80               Masq    3", "198.18.12.2:80               Masq    1"} {
		if !strings.Contains(listed, want) {
			t.Errorf("ipvsadm -Ln lacks %q:\n%s", want, listed)
		}
	}
	if !strings.Contains(out, "198.18.11.2:80") || !strings.Contains(out, "nat\t3") {
		t.Errorf("script output should list the live dests with weight 3:\n%s", out)
	}
	// The sync daemon through the Lua API.
	daemonScript := filepath.Join(t.TempDir(), "sync.lua")
	os.WriteFile(daemonScript, []byte(`local d = ipvs.Daemon.new{state = "backup", ifname = "c0", syncid = 3}
d:start()
for _, x in ipairs(ipvs.daemons()) do print("running", x.state) end
`), 0o644)
	lab.Run("luvs", "exec", daemonScript)
	if out := lab.Run("ipvsadm", "-L", "--daemon"); !strings.Contains(out, "backup sync daemon (mcast=c0, syncid=3") {
		t.Errorf("sync daemon not started by the Lua API:\n%s", out)
	}
	os.WriteFile(daemonScript, []byte(`ipvs.Daemon.new{state = "backup", ifname = "c0"}:stop()`), 0o644)
	lab.Run("luvs", "exec", daemonScript)
	if out := lab.Run("ipvsadm", "-L", "--daemon"); strings.TrimSpace(out) != "" {
		t.Errorf("sync daemon still running:\n%s", out)
	}

	// A kernel refusal is a Lua error with the script position and the reason.
	script := filepath.Join(t.TempDir(), "dup.lua")
	os.WriteFile(script, []byte(`local s = ipvs.Service.new{addr = "198.18.0.10", port = 80, sched_name = "rr"}
s:add_service()
`), 0o644)
	cmd := exec.Command("ip", "netns", "exec", lab.Director, "luvs", "exec", script)
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "dup.lua:2:") || !strings.Contains(string(msg), "service already exists (EEXIST)") {
		t.Errorf("adding an existing service: %v\n%s", err, msg)
	}
}
