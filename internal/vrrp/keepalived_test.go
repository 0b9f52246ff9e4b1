package vrrp

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// lockedBuffer collects keepalived's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestKeepalivedInterop runs keepalived (vrrp_version 3) in the peer
// namespace against an instance here: each must understand the other's
// advertisements, priority 0 included, multicast and unicast.
func TestKeepalivedInterop(t *testing.T) {
	needNet(t)
	if _, err := exec.LookPath("keepalived"); err != nil {
		t.Skip("no keepalived:", err)
	}
	for _, tc := range []struct {
		name        string
		unicast, v6 bool
	}{
		{"IPv4", false, false},
		{"IPv4 unicast", true, false},
		{"IPv6", false, true},
		{"IPv6 unicast", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) { testKeepalived(t, tc.unicast, tc.v6) })
	}
}

func testKeepalived(t *testing.T, unicast, v6 bool) {
	devA, devB := "vrrpk4", "vrrpk4b"
	vip := netip.MustParseAddr("198.18.0.10")
	pa, pb := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.2")
	addrsA, addrsB := []string{"198.18.0.1/24"}, []string{"198.18.0.2/24"}
	if v6 {
		devA, devB = "vrrpk6", "vrrpk6b"
		vip = netip.MustParseAddr("2001:db8::10")
		pa, pb = netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2")
		addrsA, addrsB = []string{"fe80::1/64", "2001:db8::1/64"}, []string{"fe80::2/64", "2001:db8::2/64"}
	}
	if unicast {
		devA, devB = devA+"u", devB+"u"
	}
	ns := peerNS(t, devA, devB, addrsA, addrsB)
	hb, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	onB := func() bool {
		l, err := hb.LinkByName(devB)
		if err != nil {
			t.Fatal(err)
		}
		as, err := hb.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.IP.String() == vip.String() {
				return true
			}
		}
		return false
	}
	peer := ""
	if unicast {
		peer = fmt.Sprintf("  unicast_src_ip %v\n  unicast_peer {\n    %v\n  }\n", pb, pa)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`global_defs {
  router_id luvs-vrrp-test
  vrrp_version 3
  vrrp_garp_master_delay 0
}
vrrp_instance VI_1 {
  interface %s
  state BACKUP
  virtual_router_id 51
  priority 150
  advert_int 0.1
%s  virtual_ipaddress {
    %v
  }
}
`, devB, peer, vip)), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cmd := exec.Command("keepalived", "--vrrp", "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--dont-respawn",
		"--use-file", conf, "--pid", filepath.Join(dir, "keepalived.pid"), "--vrrp_pid", filepath.Join(dir, "vrrp.pid"))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	inNS(t, ns, func() {
		if err := cmd.Start(); err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("keepalived:\n%s", logs.String())
		}
	}()
	waitFor := func(what string, d time.Duration, f func() bool) {
		t.Helper()
		for end := time.Now().Add(d); !f(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("no %s after %v", what, d)
			}
		}
	}
	entered := func(state string) func() bool {
		n := strings.Count(logs.String(), "Entering "+state+" STATE")
		return func() bool { return strings.Count(logs.String(), "Entering "+state+" STATE") > n }
	}

	// keepalived alone becomes master.
	waitFor("keepalived master", 5*time.Second, func() bool { return strings.Contains(logs.String(), "Entering MASTER STATE") && onB() })

	// Ours, of lower priority, stays its backup.
	cfg := Config{Priority: 100, Addresses: []netip.Addr{vip}}
	// keepalived sends IPv6 unicast advertisements with hop limit 64.
	nc := NetConfig{Interface: devA, Unicast: unicast, IPv6: v6, AnyUnicastTTL: unicast && v6}
	if unicast {
		cfg.Peers = []netip.Addr{pb}
	}
	a := openSideNet(t, nc, cfg)
	a.run(t)
	time.Sleep(time.Second)
	if st := a.inst.Status(); st.State != Backup || st.Master != pb || st.MasterAdverInterval != 100*time.Millisecond {
		t.Fatalf("ours: %+v, want a backup of keepalived's %v", st, pb)
	}

	// Raised above keepalived's, ours preempts it.
	backup := entered("BACKUP")
	if err := a.inst.SetPriority(200); err != nil {
		t.Fatal(err)
	}
	waitState(t, a, Master, 2*time.Second)
	waitFor("keepalived backup", 2*time.Second, backup)
	time.Sleep(300 * time.Millisecond)
	if a.inst.State() != Master || !a.has(t, vip) || onB() {
		t.Fatalf("ours %v, %v on ours: %v, on keepalived's: %v", a.inst.State(), vip, a.has(t, vip), onB())
	}

	// Ours stops: keepalived takes over at once (priority 0).
	master := entered("MASTER")
	stopped := time.Now()
	a.cancel()
	<-a.done
	waitFor("keepalived master again", 2*time.Second, func() bool { return master() && onB() })
	if took := time.Since(stopped); took > 250*time.Millisecond {
		t.Errorf("keepalived took over %v after ours stopped, want about its Skew_Time (41 ms)", took)
	}
}

// openSideNet is openSide with a NetConfig of the test's.
func openSideNet(t *testing.T, nc NetConfig, cfg Config) *side {
	t.Helper()
	nc.VirtualAddresses = cfg.Addresses
	s := openSideWith(t, nc, cfg)
	return s
}
