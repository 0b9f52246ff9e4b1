package check

import (
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

func TestPing(t *testing.T) {
	needNet(t)
	c := mustNew(t, model.Check{Kind: model.CheckPing})

	t.Run("up", func(t *testing.T) {
		r := probe(t, c, Target{Addr: addr1, Port: 80}, time.Second)
		wantUp(t, r, "echo reply in ")
		if r.Latency <= 0 || r.Latency > time.Second {
			t.Errorf("latency %v", r.Latency)
		}
	})
	t.Run("up-ipv6", func(t *testing.T) {
		wantUp(t, probe(t, c, Target{Addr: addr6, Port: 0}, time.Second), "echo reply in ")
	})
	t.Run("unassigned", func(t *testing.T) {
		// 198.18.0.99 is assigned nowhere and not routed.
		wantDown(t, probe(t, c, Target{Addr: unrouted, Port: 0}, time.Second), "network is unreachable")
	})
	t.Run("no-reply", func(t *testing.T) {
		start := time.Now()
		r := probe(t, c, Target{Addr: blackhole, Port: 0}, 300*time.Millisecond)
		wantDown(t, r, "no echo reply after 300ms")
		if took := time.Since(start); took < 290*time.Millisecond {
			t.Errorf("gave up after %v, before the deadline", took)
		}
	})
	t.Run("addr-override", func(t *testing.T) {
		oc := model.Check{Kind: model.CheckPing, Addr: addr2}
		wantUp(t, probe(t, mustNew(t, oc), TargetFor(oc, unrouted, 0), time.Second), "echo reply")
	})
	t.Run("concurrent", func(t *testing.T) {
		res := make(chan Result, 20)
		for i := range cap(res) {
			go func() {
				tg := Target{Addr: addr1, Port: 0}
				if i%2 == 1 {
					tg = Target{Addr: addr6, Port: 0}
				}
				res <- probe(t, c, tg, 2*time.Second)
			}()
		}
		for range cap(res) {
			if r := <-res; !r.OK {
				t.Errorf("got %s", fmtResult(r))
			}
		}
	})
}
