package check

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// tcpChecker is keepalived's TCP_CHECK: connect, then close.
type tcpChecker struct{}

var tcpSpec = &Spec{
	Kind: model.CheckTCP, Doc: "Connects to the port.", part: func(*model.Check) {},
	build: func(model.Check) (prober, Problems) { return tcpChecker{}, nil },
}

// dialer is shared by the tcp and http checkers. Its zero timeout leaves the
// deadline to the probe's context.
var dialer = net.Dialer{KeepAlive: -1}

func (tcpChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	lat, err := Connect(ctx, t.String())
	if err != nil {
		return down(err.Error())
	}
	r := up("connected")
	r.Latency = lat
	return r
}

// Connect opens a TCP connection to addr ("host:port") and closes it at
// once, before ctx is done; it returns how long the connect took.
func Connect(ctx context.Context, addr string) (time.Duration, error) {
	start := time.Now()
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, errors.New(errMsg(ctx, err, start))
	}
	lat := time.Since(start)
	closeRST(conn)
	return lat, nil
}

// closeRST closes a TCP connection with a reset instead of a FIN, so that
// the prober does not pile up TIME_WAIT sockets (and run out of ephemeral
// ports) at thousands of probes per second. HAProxy's checks do the same.
func closeRST(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
