package e2e

import (
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/testbed"
)

// TestECMPLab proves the multi-director lab works before any BGP: two
// directors with the same mh table (ipvsadm, direct routing to three real
// servers), the router's route to the VIP set by hand. Flows spread over
// both directors, and a connection moved from one director to the other
// keeps going (mh maps it to the same real server on both, sloppy_tcp lets
// the second pick it up mid-stream). BIRD runs in the router throughout
// with the configuration the BGP test will use; its sessions wait for the
// directors to connect.
func TestECMPLab(t *testing.T) {
	needKernel(t)
	lab := testbed.NewECMPLab(t, 2, 3)
	web := netip.AddrPortFrom(testbed.ECMPVIP, 80)
	echo := netip.AddrPortFrom(testbed.ECMPVIP, 7000)
	for _, d := range lab.Directors {
		for _, svc := range []netip.AddrPort{web, echo} {
			d.Run("ipvsadm", "-A", "-t", svc.String(), "-s", "mh", "-b", "mh-fallback,mh-port")
			for _, rs := range lab.Servers {
				d.Run("ipvsadm", "-a", "-t", svc.String(), "-r", netip.AddrPortFrom(rs.Addr4, svc.Port()).String(), "-g")
			}
		}
	}
	lab.StartEcho(echo.Port())

	var bird *testbed.Bird
	if _, err := exec.LookPath("bird"); err == nil {
		bird = lab.StartBird(lab.BirdConfig().String())
	} else if os.Getenv("LUVS_E2E") == "1" && os.Getenv("LUVS_BIRD_REQUIRED") == "1" {
		t.Fatal("LUVS_BIRD_REQUIRED=1 but bird is not in PATH (start the VM with LUVS_VM_EXTRA_BINARIES=\"bird birdc\")")
	}

	lab.RouteVIP(lab.Directors...)
	t.Logf("router: %s", lab.VIPRoute())

	t.Run("spread", func(t *testing.T) {
		const n = 40
		tally := lab.Send(web, n)
		t.Logf("%d requests: answers %v, connections per director %v", n, tally.ByServer, tally.ByDirector)
		if tally.Errors > 0 {
			t.Errorf("%d of %d requests failed", tally.Errors, n)
		}
		sum := 0
		for _, d := range lab.Directors {
			if tally.ByDirector[d.Name] == 0 {
				t.Errorf("no connection went through %s", d.Name)
			}
			sum += tally.ByDirector[d.Name]
		}
		if sum != n {
			t.Errorf("the directors scheduled %d connections for %d requests", sum, n)
		}
		for _, rs := range lab.Servers {
			if tally.ByServer[rs.Name] == 0 {
				t.Errorf("%s answered no request", rs.Name)
			}
		}
	})

	t.Run("takeover", func(t *testing.T) {
		d1, d2 := lab.Directors[0], lab.Directors[1]
		lab.RouteVIP(d1)
		t.Cleanup(func() { lab.RouteVIP(lab.Directors...) })
		// Several connections, so several source ports (and real servers)
		// are moved.
		type moved struct {
			c    *testbed.Conn
			rs   string
			flow testbed.Flow
		}
		var conns []*moved
		for i := 0; i < 8; i++ {
			c, err := lab.Dial(echo)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			ans, err := c.Say("via director1")
			if err != nil {
				t.Fatal(err)
			}
			rs, _, _ := strings.Cut(ans, ": ")
			conns = append(conns, &moved{c: c, rs: rs})
		}
		on1, on2 := d1.FlowsByClient(), d2.FlowsByClient()
		for _, m := range conns {
			f, ok := on1[m.c.LocalAddr()]
			if !ok {
				t.Fatalf("%s has no connection entry for %s (answered by %s)", d1.Name, m.c.LocalAddr(), m.rs)
			}
			if b := lab.ServerByAddr(f.Dest.Addr()); b == nil || b.Name != m.rs {
				t.Errorf("%s sent %s to %s, but %q answered", d1.Name, m.c.LocalAddr(), f.Dest, m.rs)
			}
			if f2, ok := on2[m.c.LocalAddr()]; ok {
				t.Errorf("%s has an entry for %s before the move: %+v", d2.Name, m.c.LocalAddr(), f2)
			}
			m.flow = f
		}

		lab.RouteVIP(d2)
		t.Logf("router: %s", lab.VIPRoute())
		var ok []*moved
		for _, m := range conns {
			ans, err := m.c.Say("via director2")
			if err != nil {
				t.Errorf("%s (%s) after the move to %s: %v", m.c.LocalAddr(), m.rs, d2.Name, err)
				continue
			}
			if want := m.rs + ": via director2"; ans != want {
				t.Errorf("%s after the move: %q, want %q", m.c.LocalAddr(), ans, want)
			}
			ok = append(ok, m)
		}
		on2 = d2.FlowsByClient()
		for _, m := range ok {
			f, found := on2[m.c.LocalAddr()]
			switch {
			case !found:
				t.Errorf("%s has no entry for %s after the move", d2.Name, m.c.LocalAddr())
			case f.Dest != m.flow.Dest:
				t.Errorf("%s sends %s to %s, %s sent it to %s", d2.Name, m.c.LocalAddr(), f.Dest, d1.Name, m.flow.Dest)
			default:
				t.Logf("%s: %s -> %s on both directors (%s on %s)", m.c.LocalAddr(), m.flow.Virtual, m.flow.Dest, f.State, d2.Name)
			}
		}

		// New connections through director 2 alone.
		tally := lab.Send(web, 6)
		if tally.Errors > 0 || tally.ByDirector[d2.Name] != 6 {
			t.Errorf("6 requests via %s only: %d failed, connections per director %v", d2.Name, tally.Errors, tally.ByDirector)
		}
	})

	t.Run("bird", func(t *testing.T) {
		if bird == nil {
			t.Skip("bird not in PATH (start the VM with LUVS_VM_EXTRA_BINARIES=\"bird birdc\")")
		}
		ps, err := bird.Protocols()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("birdc show protocols: %+v", ps)
		byName := map[string]testbed.BirdProtocol{}
		for _, p := range ps {
			byName[p.Name] = p
		}
		for _, d := range lab.Directors {
			p, ok := byName[d.Name]
			switch {
			case !ok:
				t.Errorf("no BGP protocol %s", d.Name)
			case p.Proto != "BGP" || p.State != "start" || !slices.Contains([]string{"Passive", "Active", "Connect", "Idle"}, p.Info):
				t.Errorf("%s: %+v, want BGP start Passive (no director speaks BGP yet)", d.Name, p)
			}
		}
		for _, proto := range []string{"Device", "Kernel", "BFD"} {
			up := false
			for _, p := range ps {
				up = up || (p.Proto == proto && p.State == "up")
			}
			if !up {
				t.Errorf("no %s protocol up", proto)
			}
		}
		routes, err := bird.ShowRoute()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(routes, testbed.ECMPVIP.String()) {
			t.Errorf("bird has a route to the VIP without BGP:\n%s", routes)
		}
		// BIRD's kernel protocol leaves the static route alone.
		if r := lab.VIPRoute(); !strings.Contains(r, "nexthop") {
			t.Errorf("the router's route to the VIP: %q, want the static multipath one", r)
		}
	})
}
