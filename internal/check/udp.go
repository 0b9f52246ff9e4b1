package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// udpChecker is keepalived's UDP_CHECK (with require_reply): send a
// datagram on a connected socket and wait for the reply. An ICMP port
// unreachable (ECONNREFUSED on the socket) means down.
type udpChecker struct {
	payload []byte
	expect  []byte
}

var udpSpec = &Spec{
	Kind: model.CheckUDP, Doc: "Sends a datagram and waits for a reply.",
	Settings: []Setting{
		bytesSetting("payload", "empty", "Datagram to send.", func(c *model.Check) *[]byte { return &c.UDP.Payload }),
		bytesSetting("expect", "any reply", "The reply must contain it. An ICMP port unreachable means down.",
			func(c *model.Check) *[]byte { return &c.UDP.Expect }),
	},
	part: func(c *model.Check) {
		if c.UDP == nil {
			c.UDP = &model.UDPCheck{}
		}
	},
	build: func(c model.Check) (prober, Problems) {
		return &udpChecker{payload: bytes.Clone(c.UDP.Payload), expect: bytes.Clone(c.UDP.Expect)}, nil
	},
}

// maxDatagram is the largest reply read.
const maxDatagram = 64 << 10

func (u *udpChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	reply, err := exchangeUDP(ctx, dialerFor(t, "udp"), t.String(), u.payload)
	if err != nil {
		return down(err.Error())
	}
	lat := time.Since(start)
	var r Result
	if len(u.expect) > 0 && !bytes.Contains(reply, u.expect) {
		r = down(fmt.Sprintf("reply does not contain %q", u.expect))
	} else {
		r = up(fmt.Sprintf("reply of %d bytes", len(reply)))
	}
	r.Latency = lat
	return r
}

// Exchange sends payload to addr ("host:port") on a connected UDP socket
// and returns the first reply, before ctx is done. An ICMP port
// unreachable is the error "port unreachable".
func Exchange(ctx context.Context, addr string, payload []byte) ([]byte, error) {
	return exchangeUDP(ctx, &net.Dialer{}, addr, payload)
}

// exchangeUDP is Exchange through d (which may bind a source).
func exchangeUDP(ctx context.Context, d *net.Dialer, addr string, payload []byte) ([]byte, error) {
	start := time.Now()
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, errors.New(errMsg(ctx, err, start))
	}
	defer conn.Close()
	stop := watchConn(ctx, conn)
	defer stop()
	if err := conn.SetDeadline(deadlineFrom(ctx)); err != nil {
		return nil, err
	}
	fail := func(err error) error {
		switch {
		case isRefused(err):
			return errors.New("port unreachable")
		case ctx.Err() == context.Canceled:
			return errors.New("canceled")
		case isTimeout(err):
			return errors.New("no reply after " + allowed(ctx, start))
		}
		return errors.New(errMsg(ctx, err, start))
	}
	if _, err := conn.Write(payload); err != nil {
		return nil, fail(err)
	}
	buf := make([]byte, maxDatagram)
	n, err := conn.Read(buf)
	if err != nil {
		return nil, fail(err)
	}
	return buf[:n], nil
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
