package diff

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/model"
)

func svc(k string, sched string) model.Service {
	key, err := model.ParseServiceKey(k)
	if err != nil {
		panic(err)
	}
	return model.Service{ServiceKey: key, Scheduler: sched}
}

func rs(addr string, w int) model.Dest {
	ap := netip.MustParseAddrPort(addr)
	return model.Dest{DestKey: model.DestKey{Addr: ap.Addr(), Port: ap.Port()}, Weight: w, Forward: model.Masquerade}
}

func opsString(ops []model.Op) string {
	var b strings.Builder
	for _, o := range ops {
		b.WriteString(o.String())
		b.WriteString("\n")
	}
	return b.String()
}

func TestPlan(t *testing.T) {
	actual := &model.State{Services: []model.VirtualServer{
		{Service: svc("198.18.0.10:80", "wrr"), Dests: []model.Dest{rs("198.18.1.1:80", 1), rs("198.18.1.2:80", 1), rs("198.18.1.3:80", 1)}},
		{Service: svc("198.18.0.11:80", "rr"), Dests: []model.Dest{rs("198.18.1.1:80", 1)}},
		{Service: svc("198.18.0.12:80", "rr")},
	}}
	desired := &model.State{Services: []model.VirtualServer{
		{Service: svc("198.18.0.10:80", "wrr"), Dests: []model.Dest{rs("198.18.1.1:80", 1), rs("198.18.1.2:80", 5), rs("198.18.1.4:80", 1)}},
		{Service: svc("198.18.0.11:80", "wlc"), Dests: []model.Dest{rs("198.18.1.1:80", 1)}},
		{Service: svc("udp:198.18.0.13:53", "rr"), Dests: []model.Dest{rs("198.18.1.1:53", 1)}},
	}}
	want := `add service UDP 198.18.0.13:53
edit service TCP 198.18.0.11:80
add dest 198.18.1.4:80 to TCP 198.18.0.10:80
add dest 198.18.1.1:53 to UDP 198.18.0.13:53
edit dest 198.18.1.2:80 of TCP 198.18.0.10:80
delete dest 198.18.1.3:80 from TCP 198.18.0.10:80
delete service TCP 198.18.0.12:80
`
	if got := opsString(Plan(desired, actual, Options{})); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	// Only owned services may be deleted.
	got := opsString(Plan(desired, actual, Options{Owned: func(k model.ServiceKey) bool { return k.Port != 80 }}))
	if strings.Contains(got, "delete service") {
		t.Errorf("deleted a service it does not own:\n%s", got)
	}
	// Applying the plan's target to itself is a no-op.
	if ops := Plan(desired, desired, Options{}); len(ops) != 0 {
		t.Errorf("plan against itself: %s", opsString(ops))
	}
}

func TestSameServiceNormalizesNetmask(t *testing.T) {
	a := svc("198.18.0.10:80", "rr")
	a.Persistent, a.Timeout = true, 300
	b := a
	b.NetmaskBits = 32
	if !SameService(&a, &b) {
		t.Error("netmask 0 (default) and /32 should be the same")
	}
	b.NetmaskBits = 24
	if SameService(&a, &b) {
		t.Error("netmask /24 should differ from the default")
	}
}
