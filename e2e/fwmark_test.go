package e2e

import (
	"net/netip"
	"testing"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/testbed"
)

// TestFWMarkServiceBalances marks packets to two VIPs with nftables and
// serves both through one firewall-mark service, IPv4 and IPv6.
func TestFWMarkServiceBalances(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	b1, b2 := lab.AddBackend(1), lab.AddBackend(2)
	vips := []netip.Addr{addr("198.18.0.20"), addr("198.18.0.21"), addr("2001:db8::20")}
	for _, v := range vips {
		lab.AddVIP(v)
	}
	lab.Run("nft", `
		table inet luvs_test {
			chain pre {
				type filter hook prerouting priority mangle;
				ip daddr { 198.18.0.20, 198.18.0.21 } tcp dport 80 meta mark set 7
				ip6 daddr 2001:db8::20 tcp dport 80 meta mark set 8
			}
		}`)
	c := lab.IPVS()
	for _, fs := range []struct {
		key   model.ServiceKey
		dests []netip.Addr
	}{
		{model.ServiceKey{Family: model.IPv4, FWMark: 7}, []netip.Addr{b1.Addr4, b2.Addr4}},
		{model.ServiceKey{Family: model.IPv6, FWMark: 8}, []netip.Addr{b1.Addr6, b2.Addr6}},
	} {
		if err := c.AddService(model.Service{ServiceKey: fs.key, Scheduler: "rr"}); err != nil {
			t.Fatal(err)
		}
		for _, a := range fs.dests {
			if err := c.AddDest(fs.key, model.Dest{DestKey: model.DestKey{Addr: a, Port: 80}, Weight: 1, Forward: model.Masquerade}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, v := range vips {
		got := lab.Spread(url(v), 10)
		t.Logf("%s: %v", v, got)
		if got["backend1"] != 5 || got["backend2"] != 5 {
			t.Errorf("fwmark service via %s: %v, want 5 and 5", v, got)
		}
	}
	sameListing(t, lab)
}
