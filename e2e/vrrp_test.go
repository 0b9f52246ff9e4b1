package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/testbed"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// vrrpVIP is the pair's virtual address, on the lan of the ECMP lab (its
// router reaches it by ARP: the master's gratuitous ARP moves it).
var vrrpVIP = netip.MustParseAddr("198.18.100.100")

// serveVRRPVIP gives the lab's real servers the pair's address (direct
// routing: on lo, without ARP replies) and has them serve on it.
func serveVRRPVIP(t *testing.T, lab *testbed.ECMPLab) {
	t.Helper()
	for _, rs := range lab.Servers {
		lab.Run(rs.NS, "ip", "addr", "add", vrrpVIP.String()+"/32", "dev", "lo")
		rs.Stop()
		rs.VIPs = append(rs.VIPs, vrrpVIP)
		if err := rs.Start(); err != nil {
			t.Fatal(err)
		}
	}
}

// holds reports whether director d has the pair's address on its eth0.
func holds(d *testbed.Director) bool {
	return strings.Contains(d.Run("ip", "-4", "addr", "show", "dev", "eth0"), " "+vrrpVIP.String()+"/32 ")
}

// vrrpDirectorConfig is a director of the pair: the same services (direct
// routing to the lab's three real servers) and one virtual router whose
// priority drops by 60 while the web service has no live server, with the
// connection-sync daemon following the role.
const vrrpDirectorConfig = `
defaults {
  scheduler = "rr", forward = "dr",
  check = tcp { interval = "300ms", timeout = "200ms", rise = 1, fall = 2 },
}
virtual_server "198.18.100.100:80" {
  real_server "198.18.100.21:80" {}, real_server "198.18.100.22:80" {}, real_server "198.18.100.23:80" {},
}
virtual_server "198.18.100.100:7000" {
  real_server "198.18.100.21:7000" {}, real_server "198.18.100.22:7000" {}, real_server "198.18.100.23:7000" {},
}
vrrp "VI_1" {
  interface = "eth0", virtual_router_id = 51, priority = %d, advert_interval = "300ms",
  virtual_addresses = { "198.18.100.100" }, preempt_delay = "1s",
  track = { services = { "198.18.100.100:80" }, weight = -60 },
  sync_daemon = { interface = "eth0", id = 51 },
  notify_master = { "/bin/sh", "-c", "echo $LUVS_EVENT $LUVS_NAME >> %s" },
}
`

// TestVRRPPair: two luvs directors share a virtual address by VRRPv3. The
// higher priority one is master; when its daemon is killed the backup
// takes over within 3 x advert_interval + skew, a client loop loses at most
// the requests in flight, and a long-lived connection goes on (the sync
// daemon copied it); the first director comes back and preempts after its
// preempt_delay; a master whose tracked service loses its servers hands
// over to the backup.
func TestVRRPPair(t *testing.T) {
	needKernel(t)
	lab := testbed.NewECMPLab(t, 2, 3)
	d1, d2 := lab.Directors[0], lab.Directors[1]
	serveVRRPVIP(t, lab)
	lab.StartEcho(7000)
	parent := t
	events := map[*testbed.Director]string{d1: filepath.Join(t.TempDir(), "events"), d2: filepath.Join(t.TempDir(), "events")}
	configs := map[*testbed.Director]string{
		d1: writeConfig(t, fmt.Sprintf(vrrpDirectorConfig, 150, events[d1])),
		d2: writeConfig(t, fmt.Sprintf(vrrpDirectorConfig, 100, events[d2])),
	}
	daemons := map[*testbed.Director]*daemon{d1: startDaemonIn(t, d1.NS, configs[d1]), d2: startDaemonIn(t, d2.NS, configs[d2])}
	master := func(d *testbed.Director) func() bool {
		return func() bool {
			other := d1
			if d == d1 {
				other = d2
			}
			return holds(d) && !holds(other)
		}
	}
	web := "http://" + vrrpVIP.String() + "/"
	took := waitFor(t, "director1 master", 20*time.Second, master(d1))
	t.Logf("director1 (priority 150) master %s after start", took.Round(time.Millisecond))
	st := daemons[d1].status(t)
	if len(st.VRRP) != 1 || st.VRRP[0].State != "master" {
		t.Errorf("director1's status: %+v", st.VRRP)
	}
	if st := daemons[d2].status(t); len(st.VRRP) != 1 || st.VRRP[0].State != "backup" || st.VRRP[0].Master != d1.Addr4.String() {
		t.Errorf("director2's status: %+v", st.VRRP)
	}
	c := lab.HTTPClient(2 * time.Second)
	for i := 0; i < 6; i++ {
		if _, err := testbed.Get(c, web); err != nil {
			t.Fatalf("request %d through director1: %v", i, err)
		}
	}

	t.Run("kill -9 of the master's daemon", func(t *testing.T) {
		conn, err := lab.Dial(netip.AddrPortFrom(vrrpVIP, 7000))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var rs string
		for i := 0; i < 5; i++ { // enough packets for the sync daemon to copy the connection
			ans, err := conn.Say(fmt.Sprint("before ", i))
			if err != nil {
				t.Fatal(err)
			}
			rs, _, _ = strings.Cut(ans, ": ")
		}
		waitFor(t, "the connection copied to director2", 10*time.Second, func() bool {
			_, ok := d2.Flow(conn.LocalAddr())
			return ok
		})
		stopLoop := requestLoop(lab, web, time.Second)
		daemons[d1].cmd.Process.Signal(syscall.SIGKILL)
		took := waitFor(t, "director2 holding the address", 10*time.Second, func() bool { return holds(d2) })
		bound := 3*300*time.Millisecond + (256-100)*300*time.Millisecond/256
		t.Logf("kill -9 of director1's daemon: director2 took the address %s later (3 x advert_interval + skew = %s)", took.Round(time.Millisecond), bound)
		if took > bound+700*time.Millisecond {
			t.Errorf("takeover took %s, want about %s", took, bound)
		}
		time.Sleep(time.Second)
		sent, failed, last := stopLoop()
		t.Logf("client loop across the takeover: %d requests, %d failed, the last %s after the kill", sent, failed, last.Round(time.Millisecond))
		if failed > 0 && last > took+time.Second {
			t.Errorf("requests failed until %s after the kill, past the takeover at %s", last, took)
		}
		waitFor(t, "director2's notify_master", 5*time.Second, func() bool {
			b, _ := os.ReadFile(events[d2])
			return string(b) == "master VI_1\n"
		})
		ans, err := conn.Say("after the takeover")
		if err != nil || ans != rs+": after the takeover" {
			t.Errorf("the long-lived connection after the takeover: %q, %v (want %s)", ans, err, rs)
		}
		<-daemons[d1].done
	})

	t.Run("the first director comes back and preempts", func(t *testing.T) {
		daemons[d1] = startDaemonIn(parent, d1.NS, configs[d1])
		took := waitFor(t, "director1 master again", 20*time.Second, master(d1))
		t.Logf("director1's daemon restarted: master again %s later (preempt_delay 1s)", took.Round(time.Millisecond))
		if took < time.Second {
			t.Errorf("preempted %s after the restart, before its preempt_delay", took)
		}
		if _, err := testbed.Get(c, web); err != nil {
			t.Errorf("a request after the preemption: %v", err)
		}
	})

	t.Run("tracked service down hands over", func(t *testing.T) {
		for _, rs := range lab.Servers {
			lab.Run(d1.NS, "ip", "route", "add", "prohibit", rs.Addr4.String()+"/32")
		}
		took := waitFor(t, "director2 master while director1's web service is down", 10*time.Second, master(d2))
		t.Logf("director1's real servers unreachable from it: director2 master %s later (priority 150 - 60 = 90 < 100)", took.Round(time.Millisecond))
		if st := daemons[d1].status(t); len(st.VRRP) != 1 || st.VRRP[0].Priority != 90 {
			t.Errorf("director1's status: %+v", st.VRRP)
		}
		if _, err := testbed.Get(c, web); err != nil {
			t.Errorf("a request through director2: %v", err)
		}
		for _, rs := range lab.Servers {
			lab.Run(d1.NS, "ip", "route", "del", "prohibit", rs.Addr4.String()+"/32")
		}
		took = waitFor(t, "director1 master again once its servers are back", 10*time.Second, master(d1))
		t.Logf("director1's servers back: master again %s later", took.Round(time.Millisecond))
	})
}

// keepalivedVRRP is keepalived 2.2.7's side of a mixed pair: VRRPv3, the
// same virtual router as vrrpDirectorConfig's (no tracking, no sync).
const keepalivedVRRP = `global_defs {
  router_id luvs-e2e
  vrrp_version 3
  vrrp_garp_master_delay 0
}
vrrp_instance VI_1 {
  interface eth0
  state BACKUP
  virtual_router_id 51
  priority %d
  advert_int 0.3
  preempt_delay 1
  virtual_ipaddress {
    198.18.100.100/32
  }
}
`

// luvsVRRPOnly is luvs's side of a mixed pair.
const luvsVRRPOnly = `
defaults { scheduler = "rr", forward = "dr", check = tcp { interval = "300ms", timeout = "200ms", rise = 1, fall = 2 } }
virtual_server "198.18.100.100:80" {
  real_server "198.18.100.21:80" {}, real_server "198.18.100.22:80" {}, real_server "198.18.100.23:80" {},
}
vrrp "VI_1" {
  interface = "eth0", virtual_router_id = 51, priority = %d, advert_interval = "300ms",
  virtual_addresses = { "198.18.100.100" }, preempt_delay = "1s",
}
`

// TestVRRPWithKeepalived: a pair of luvs and keepalived 2.2.7 elects the
// higher priority one, whichever it is; when the master's process is
// killed the other takes the address over within 3 x advert_interval +
// skew, and the master preempts back when it returns. (Killing keepalived's
// parent process makes its VRRP child stop cleanly, with a priority 0
// advertisement: luvs then takes over within its skew time.)
func TestVRRPWithKeepalived(t *testing.T) {
	needKernel(t)
	if _, err := exec.LookPath("keepalived"); err != nil {
		if os.Getenv("LUVS_KEEPALIVED_REQUIRED") == "1" {
			t.Fatal("LUVS_KEEPALIVED_REQUIRED=1 but keepalived is not in PATH")
		}
		t.Skip("keepalived not in PATH (start the VM with LUVS_VM_EXTRA_BINARIES=keepalived)")
	}
	for _, tc := range []struct {
		name                string
		luvsPrio, kaPrio    int
		luvsIsMasterAtFirst bool
	}{
		{"luvs master", 150, 100, true},
		{"keepalived master", 100, 150, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := testbed.NewECMPLab(t, 2, 3)
			dl, dk := lab.Directors[0], lab.Directors[1]
			serveVRRPVIP(t, lab)
			only := func(d, other *testbed.Director) func() bool {
				return func() bool { return holds(d) && !holds(other) }
			}
			luvsCfg := writeConfig(t, fmt.Sprintf(luvsVRRPOnly, tc.luvsPrio))
			kaConf := filepath.Join(t.TempDir(), "keepalived.conf")
			if err := os.WriteFile(kaConf, []byte(fmt.Sprintf(keepalivedVRRP, tc.kaPrio)), 0o644); err != nil {
				t.Fatal(err)
			}
			startKA := func(tt *testing.T) *exec.Cmd {
				dir := tt.TempDir()
				cmd := exec.Command("ip", "netns", "exec", dk.NS, "keepalived", "--vrrp", "--dont-fork", "--log-console", "--no-syslog",
					"--dont-respawn", "--use-file", kaConf, "--pid", filepath.Join(dir, "k.pid"), "--vrrp_pid", filepath.Join(dir, "v.pid"))
				var logs testlog.Buffer
				cmd.Stdout, cmd.Stderr = &logs, &logs
				if err := cmd.Start(); err != nil {
					tt.Fatal(err)
				}
				tt.Cleanup(func() {
					cmd.Process.Signal(syscall.SIGTERM)
					cmd.Wait()
					if tt.Failed() {
						tt.Logf("keepalived logs:\n%s", logs.String())
					}
				})
				return cmd
			}
			// keepalived runs only VRRP there: luvs apply sets its director's
			// table, the same services.
			table := writeConfig(t, luvsVRRPOnly[:strings.Index(luvsVRRPOnly, "vrrp ")])
			dk.Run("luvs", "apply", table)
			ka := startKA(t)
			ld := startDaemonIn(t, dl.NS, luvsCfg)
			first, second := dl, dk
			if !tc.luvsIsMasterAtFirst {
				first, second = dk, dl
			}
			took := waitFor(t, first.Name+" master", 20*time.Second, only(first, second))
			t.Logf("%s master %s after both started", first.Name, took.Round(time.Millisecond))
			c := lab.HTTPClient(2 * time.Second)
			if _, err := testbed.Get(c, "http://"+vrrpVIP.String()+"/"); err != nil {
				t.Errorf("a request through the master: %v", err)
			}
			// Kill the master's process.
			if tc.luvsIsMasterAtFirst {
				ld.cmd.Process.Signal(syscall.SIGKILL)
				<-ld.done
			} else {
				ka.Process.Signal(syscall.SIGKILL)
				ka.Wait()
			}
			took = waitFor(t, second.Name+" taking the address", 10*time.Second, func() bool { return holds(second) })
			t.Logf("kill -9 of the master (%s): %s took the address %s later", first.Name, second.Name, took.Round(time.Millisecond))
			if took > 2*time.Second {
				t.Errorf("takeover took %s, want about 1.1 s (3 x 300 ms + skew)", took)
			}
			if _, err := testbed.Get(c, "http://"+vrrpVIP.String()+"/"); err != nil {
				t.Errorf("a request after the takeover: %v", err)
			}
			// The master comes back and preempts.
			if tc.luvsIsMasterAtFirst {
				startDaemonIn(t, dl.NS, luvsCfg)
			} else {
				startKA(t)
			}
			took = waitFor(t, first.Name+" master again", 20*time.Second, only(first, second))
			t.Logf("%s back: master again %s later (preempt_delay 1 s)", first.Name, took.Round(time.Millisecond))
		})
	}
}
