package e2e

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/testbed"
)

// natLab builds a lab with three backends and a wrr NAT service on vip:80.
func natLab(t *testing.T, vip netip.Addr) (*testbed.Lab, model.ServiceKey, []*testbed.Backend) {
	t.Helper()
	lab := testbed.NewLab(t)
	var bs []*testbed.Backend
	for i := 1; i <= 3; i++ {
		bs = append(bs, lab.AddBackend(i))
	}
	lab.AddVIP(vip)
	key := model.ServiceKey{Family: model.FamilyOf(vip), Protocol: model.TCP, Addr: vip, Port: 80}
	c := lab.IPVS()
	if err := c.AddService(model.Service{ServiceKey: key, Scheduler: "wrr"}); err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		addr := b.Addr4
		if vip.Is6() {
			addr = b.Addr6
		}
		d := model.Dest{DestKey: model.DestKey{Addr: addr, Port: 80}, Weight: 1, Forward: model.Masquerade}
		if err := c.AddDest(key, d); err != nil {
			t.Fatal(err)
		}
	}
	return lab, key, bs
}

func url(vip netip.Addr) string {
	return "http://" + netip.AddrPortFrom(vip, 80).String() + "/"
}

func testBalancing(t *testing.T, vip netip.Addr) {
	lab, key, bs := natLab(t, vip)
	c := lab.IPVS()

	// Equal weights: wrr hands out connections in turn.
	got := lab.Spread(url(vip), 30)
	t.Logf("equal weights: %v", got)
	for _, b := range bs {
		if got[b.Name] != 10 {
			t.Errorf("%s served %d of 30 requests, want 10 (%v)", b.Name, got[b.Name], got)
		}
	}
	sameListing(t, lab)

	// Weights 3:1:0 — backend3 is quiescent and gets nothing new.
	for i, w := range []int{3, 1, 0} {
		d := model.Dest{DestKey: model.DestKey{Addr: destAddr(bs[i], vip), Port: 80}, Weight: w, Forward: model.Masquerade}
		if err := c.EditDest(key, d); err != nil {
			t.Fatal(err)
		}
	}
	got = lab.Spread(url(vip), 40)
	t.Logf("weights 3:1:0: %v", got)
	if got["backend1"] != 30 || got["backend2"] != 10 || got["backend3"] != 0 {
		t.Errorf("weights 3:1:0 gave %v, want backend1=30 backend2=10 backend3=0", got)
	}
	out := lab.Run("ipvsadm", "-Ln")
	for _, want := range []string{"Masq    3", "Masq    1", "Masq    0"} {
		if !strings.Contains(out, want) {
			t.Errorf("ipvsadm -Ln lacks %q:\n%s", want, out)
		}
	}
	sameListing(t, lab)

	// Delete backend1: all traffic goes to backend2.
	if err := c.DelDest(key, model.DestKey{Addr: destAddr(bs[0], vip), Port: 80}); err != nil {
		t.Fatal(err)
	}
	got = lab.Spread(url(vip), 10)
	if got["backend2"] != 10 {
		t.Errorf("after deleting backend1: %v, want all 10 on backend2", got)
	}

	// Delete the service: nothing answers on the VIP any more.
	if err := c.DelService(key); err != nil {
		t.Fatal(err)
	}
	got = lab.Spread(url(vip), 3)
	if got["error"] != 3 {
		t.Errorf("after deleting the service: %v, want 3 failures", got)
	}
	if out := lab.Run("ipvsadm", "-Ln"); strings.Contains(out, "TCP") {
		t.Errorf("service still listed by ipvsadm:\n%s", out)
	}
	sameListing(t, lab)
}

func destAddr(b *testbed.Backend, vip netip.Addr) netip.Addr {
	if vip.Is6() {
		return b.Addr6
	}
	return b.Addr4
}

func TestNATBalancesHTTPIPv4(t *testing.T) {
	needKernel(t)
	testBalancing(t, netip.MustParseAddr("198.18.0.10"))
}

func TestNATBalancesHTTPIPv6(t *testing.T) {
	needKernel(t)
	testBalancing(t, netip.MustParseAddr("2001:db8::10"))
}

// sameListing compares luvs list with ipvsadm -Ln in the lab's director.
func sameListing(t *testing.T, lab *testbed.Lab) {
	t.Helper()
	sameLines(t, "luvs list", lab.Run("ipvsadm", "-Ln"), lab.Run("luvs", "list"))
}
