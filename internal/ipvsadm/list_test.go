package ipvsadm

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

func TestListLayout(t *testing.T) {
	vip := netip.MustParseAddr("198.18.0.10")
	table := []ipvs.Service{
		{
			Service: model.Service{ServiceKey: model.ServiceKey{Family: model.IPv6, FWMark: 3}, Scheduler: "mh",
				SchedFlags: model.SchedFlag1, Persistent: true, Timeout: 30, NetmaskBits: 64},
		},
		{
			Service: model.Service{ServiceKey: model.ServiceKey{Family: model.IPv4, Protocol: model.TCP, Addr: vip, Port: 80},
				Scheduler: "wrr", Persistent: true, Timeout: 300, NetmaskBits: 24},
			Stats: ipvs.Stats{Conns: 123456789, InBytes: 2_000_000_000_000},
			Dests: []ipvs.Dest{
				{Dest: model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.18.1.2"), Port: 80}, Weight: 3},
					ActiveConns: 4, InactConns: 5},
				{Dest: model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.18.1.1"), Port: 80}, Weight: 1, Forward: model.DirectRoute}},
			},
		},
	}
	info := ipvs.Info{Version: 1<<16 | 2<<8 | 1, ConnTabSize: 4096}
	var b bytes.Buffer
	if err := List(&b, info, table, ListOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  198.18.0.10:80 wrr persistent 300 mask 255.255.255.0
  -> 198.18.1.1:80                Route   1      0          0         
  -> 198.18.1.2:80                Masq    3      4          5         
FWM  3 IPv6 mh (mh-fallback) persistent 30 mask 64
`
	if b.String() != want {
		t.Errorf("list:\n%q\nwant:\n%q", b.String(), want)
	}
	b.Reset()
	if err := List(&b, info, table[1:], ListOptions{Format: Stats}); err != nil {
		t.Fatal(err)
	}
	want = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  198.18.0.10:80                123456K        0        0    2000G        0
  -> 198.18.1.1:80                       0        0        0        0        0
  -> 198.18.1.2:80                       0        0        0        0        0
`
	if b.String() != want {
		t.Errorf("list --stats:\n%s\nwant:\n%s", b.String(), want)
	}
}

// The sorted and reversed shortcuts give what the full sort gives.
func TestDestOrderShortcuts(t *testing.T) {
	mk := func(addrs ...string) []ipvs.Dest {
		var ds []ipvs.Dest
		for _, a := range addrs {
			ds = append(ds, ipvs.Dest{Dest: model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr(a), Port: 80}}})
		}
		return ds
	}
	var o destOrder
	for _, ds := range [][]ipvs.Dest{
		mk("10.0.0.3", "10.0.0.2", "10.0.0.1"),
		mk("10.0.0.1", "10.0.0.2", "10.0.0.3"),
		mk("200.0.0.1", "100.0.0.1", "10.0.0.1"), // more than 2^31 apart: no shortcut
		mk("10.0.0.1", "200.0.0.1", "2001:db8::1"),
	} {
		want := slices.Clone(ds)
		slices.SortStableFunc(want, func(a, b ipvs.Dest) int { return cmpDests(&a, &b) })
		got := o.sorted(ds)
		for i := range want {
			if got[i].Addr != want[i].Addr {
				t.Errorf("%v: got %v at %d, want %v", ds, got[i].Addr, i, want[i].Addr)
			}
		}
	}
}

// ipvsadm -Ln -t ADDR (one service) prints no version line; the rest is
// the same layout (captured in the VM).
func TestListOneService(t *testing.T) {
	table := []ipvs.Service{{
		Service: model.Service{ServiceKey: model.ServiceKey{Family: model.IPv4, Protocol: model.TCP,
			Addr: netip.MustParseAddr("198.18.0.10"), Port: 80}, Scheduler: "rr"},
		Dests: []ipvs.Dest{
			{Dest: model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.18.12.2"), Port: 80}, Weight: 1, Forward: model.Masquerade}, InactConns: 2},
			{Dest: model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.18.11.2"), Port: 80}, Weight: 1, Forward: model.Masquerade}, InactConns: 1},
		},
	}}
	var b bytes.Buffer
	if err := List(&b, ipvs.Info{}, table, ListOptions{OneService: true}); err != nil {
		t.Fatal(err)
	}
	want := "Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
		"TCP  198.18.0.10:80 rr\n" +
		"  -> 198.18.11.2:80               Masq    1      0          1         \n" +
		"  -> 198.18.12.2:80               Masq    1      0          2         \n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}
