package check

import (
	"context"
	"errors"
	"time"

	probing "github.com/prometheus-community/pro-bing"

	"github.com/luvs-lb/luvs/internal/model"
)

// pingChecker is keepalived's PING_CHECK: one ICMP (or ICMPv6) echo
// request on a raw socket (which needs root or CAP_NET_RAW); up when the
// reply arrives before the deadline.
type pingChecker struct{}

var pingSpec = &Spec{
	Kind: model.CheckPing, Doc: "ICMP echo.", part: func(*model.Check) {},
	build: func(model.Check) (prober, Problems) { return pingChecker{}, nil },
}

func (pingChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	addr := t.Addr.Unmap().WithZone("")
	p := probing.New(addr.String())
	p.SetPrivileged(true)
	p.SetLogger(probing.NoopLogger{})
	if addr.Is4() {
		p.SetNetwork("ip4")
	} else {
		p.SetNetwork("ip6")
	}
	if err := p.Resolve(); err != nil {
		return down(err.Error())
	}
	if t.Source.IsValid() {
		p.Source = t.Source.String()
	}
	p.Count = 1
	p.Interval = time.Hour // no second request
	p.Timeout = time.Until(deadlineFrom(ctx))
	if p.Timeout <= 0 {
		return down(timeoutMsg(ctx, start))
	}
	reply := make(chan time.Duration, 1)
	p.OnRecv = func(pkt *probing.Packet) {
		select {
		case reply <- max(pkt.Rtt, time.Nanosecond):
		default:
		}
	}

	done := make(chan error, 1)
	go func() { done <- p.RunWithContext(ctx) }()
	// pro-bing polls its socket and may take up to ~100ms to notice it
	// is done; do not wait for it once the answer is known.
	defer p.Stop()
	var err error
	select {
	case rtt := <-reply:
		return echoReply(rtt)
	case err = <-done:
		select {
		case rtt := <-reply:
			return echoReply(rtt)
		default:
		}
	case <-ctx.Done():
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return down("canceled")
	}
	if err != nil && ctx.Err() == nil {
		return down(errMsg(ctx, err, start))
	}
	return down("no echo reply after " + allowed(ctx, start))
}

func echoReply(rtt time.Duration) Result {
	r := up("echo reply in " + roundDur(rtt).String())
	r.Latency = rtt
	return r
}
