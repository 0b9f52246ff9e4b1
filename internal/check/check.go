// Package check implements luvs's built-in health checkers, with
// keepalived's checkers as the reference for their behaviour:
//
//   - tcp (TCP_CHECK): connect, then close (with a reset, so that thousands
//     of probes a second leave no TIME_WAIT sockets behind).
//   - http, https (HTTP_GET, SSL_GET): one HTTP/1.1 request on a fresh
//     connection to the target, whatever the Host header; the status must
//     be in one of the accepted ranges (default 200-299), the body (its
//     first MiB) must match the regexp and have the MD5 digest when set.
//     Redirects are not followed. https verifies the certificate only with
//     Verify; the server name is SNI, else the Host header, else the target
//     address.
//   - udp (UDP_CHECK with require_reply): send the payload on a connected
//     socket, wait for a reply (containing Expect when set); an ICMP port
//     unreachable is down.
//   - dns (DNS_CHECK): query over UDP, again over TCP when truncated; the
//     rcode must match (default NOERROR) and, with Answer, some answer
//     record's text must contain it.
//   - exec (MISC_CHECK, misc_dynamic): run Argv without a shell, with the
//     target in LUVS_TARGET_ADDR, LUVS_TARGET_PORT and LUVS_TARGET, in its own
//     process group, killed as a group at the deadline. Exit 0 is up, 1
//     down, 2..255 up with weight code-2 with DynamicWeight, else down.
//   - ping (PING_CHECK): one ICMP or ICMPv6 echo on a raw socket (root or
//     CAP_NET_RAW).
//
// A Checker keeps no per-target state: one Checker serves any number of
// concurrent probes of any targets. Scheduling (Interval, Rise, Fall,
// RetryDelay) is the caller's business; a probe only honours the deadline of
// the context it is given.
package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/luvs-lb/luvs/internal/model"
)

// Target is the real server a check probes (after Addr/Port overrides are
// applied by TargetFor).
type Target struct {
	Addr netip.Addr
	Port uint16
	// Source is the local address to connect from (zero: any); the
	// checker sets it from the check's source.
	Source netip.Addr
}

// String returns the target as host:port, with IPv6 addresses bracketed.
func (t Target) String() string {
	return netip.AddrPortFrom(t.Addr, t.Port).String()
}

// dialerFor is the dialer of a probe of t over network ("tcp" or "udp"):
// the shared one, or one bound to t.Source.
func dialerFor(t Target, network string) *net.Dialer {
	if !t.Source.IsValid() {
		return &dialer
	}
	d := &net.Dialer{KeepAlive: -1}
	if network == "udp" {
		d.LocalAddr = &net.UDPAddr{IP: t.Source.AsSlice()}
	} else {
		d.LocalAddr = &net.TCPAddr{IP: t.Source.AsSlice()}
	}
	return d
}

// Result is the outcome of one probe.
type Result struct {
	// OK is true when the target passed the check.
	OK bool
	// Weight is -1 when the check has no opinion on weight; >= 0 is a
	// dynamic weight (exec with DynamicWeight: exit 2..255 is up with
	// weight code-2).
	Weight int
	// Msg is a short, human, specific reason: "HTTP 503 Service
	// Unavailable", "connect: connection refused", "timeout after 1s".
	Msg string
	// Latency is how long the probe took (for ping, the echo round trip;
	// for tcp, the connect).
	Latency time.Duration
}

// Checker probes one target. Probe honours ctx (the caller sets the
// per-probe timeout as the ctx deadline) and does not block past it; when
// ctx has no deadline the check's Timeout (or model.DefaultTimeout) applies.
// A Checker is safe for concurrent use.
type Checker interface {
	Probe(ctx context.Context, t Target) Result
	// ProbeBy is Probe with deadline as the time limit and ctx for
	// cancellation only. It spares checkers that enforce the deadline
	// themselves (tcp) a context and a timer per probe.
	ProbeBy(ctx context.Context, deadline time.Time, t Target) Result
	// TryProbeBy is ProbeBy that does not block: it returns the result
	// when the probe finished without waiting (rest nil), else rest, which
	// finishes the probe (and may wait). Only tcp probes can finish here;
	// for the others rest is the whole probe.
	TryProbeBy(ctx context.Context, deadline time.Time, t Target) (r Result, rest func() Result)
}

// New builds the checker for c. It returns an error for unusable settings,
// such as an unknown kind, a bad body regexp or digest, an unknown DNS type
// or rcode, or an empty exec argv.
func New(c model.Check) (Checker, error) {
	s, err := SpecFor(c.Kind)
	if err != nil {
		return nil, err
	}
	p, ps := s.validate(c)
	if len(ps) > 0 {
		return nil, fmt.Errorf("check %s: %w", c.Kind, ps)
	}
	return &checker{p: p, timeout: cmp.Or(c.Timeout, model.DefaultTimeout), source: c.Source}, nil
}

// TargetFor applies c's Addr/Port overrides to a real server's address and
// port. IPv4-mapped IPv6 addresses are unmapped.
func TargetFor(c model.Check, addr netip.Addr, port uint16) Target {
	if c.Addr.IsValid() {
		addr = c.Addr
	}
	if c.Port != 0 {
		port = c.Port
	}
	return Target{Addr: addr.Unmap(), Port: port}
}

// prober is what each kind implements; checker adds the common parts.
type prober interface {
	probe(ctx context.Context, t Target, start time.Time) Result
}

// checker wraps a prober with the default deadline and latency measurement.
type checker struct {
	p       prober
	timeout time.Duration
	source  netip.Addr // where probes connect from (zero: any)
}

// Probe implements Checker.
func (c *checker) Probe(ctx context.Context, t Target) Result {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	start := time.Now()
	if !t.Addr.IsValid() {
		return down("no target address")
	}
	t.Source = c.source
	if err := ctx.Err(); err != nil {
		return down(ctxMsg(ctx, err, start))
	}
	r := c.p.probe(ctx, t, start)
	if r.Latency == 0 {
		r.Latency = time.Since(start)
	}
	return r
}

// ProbeBy implements Checker.
func (c *checker) ProbeBy(ctx context.Context, deadline time.Time, t Target) Result {
	bp, ok := c.p.(byProber)
	if !ok || c.source.IsValid() { // (a bound source takes the dialer's way)
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		return c.Probe(ctx, t)
	}
	start := time.Now()
	if !t.Addr.IsValid() {
		return down("no target address")
	}
	r := bp.probeBy(ctx, deadline, t, start)
	if r.Latency == 0 {
		r.Latency = time.Since(start)
	}
	return r
}

// TryProbeBy implements Checker.
func (c *checker) TryProbeBy(ctx context.Context, deadline time.Time, t Target) (Result, func() Result) {
	tp, ok := c.p.(tryProber)
	if !ok || !t.Addr.IsValid() || c.source.IsValid() {
		return Result{}, func() Result { return c.ProbeBy(ctx, deadline, t) }
	}
	start := time.Now()
	r, rest := tp.tryProbeBy(ctx, deadline, t, start)
	if rest != nil {
		return Result{}, func() Result {
			r := rest()
			if r.Latency == 0 {
				r.Latency = time.Since(start)
			}
			return r
		}
	}
	if r.Latency == 0 {
		r.Latency = time.Since(start)
	}
	return r, nil
}

// tryProber is a prober that can start a probe without blocking (see
// Checker.TryProbeBy).
type tryProber interface {
	tryProbeBy(ctx context.Context, deadline time.Time, t Target, start time.Time) (Result, func() Result)
}

// byProber is a prober that also probes by a deadline, with its context
// only for cancellation (see Checker.ProbeBy).
type byProber interface {
	probeBy(ctx context.Context, deadline time.Time, t Target, start time.Time) Result
}

// byDeadline is ctx with deadline d, for the messages of probers that
// enforce it themselves (byProber): it reports the deadline (Deadline, Err)
// but its Done is ctx's, not closed at d.
type byDeadline struct {
	context.Context
	d time.Time
}

func (c byDeadline) Deadline() (time.Time, bool) { return c.d, true }

func (c byDeadline) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.d) {
		return context.DeadlineExceeded
	}
	return nil
}

// maxMsg caps Result.Msg.
const maxMsg = 256

func up(msg string) Result   { return Result{OK: true, Weight: -1, Msg: capMsg(msg)} }
func down(msg string) Result { return Result{OK: false, Weight: -1, Msg: capMsg(msg)} }

// capMsg trims msg to one line of at most maxMsg bytes of valid UTF-8.
func capMsg(msg string) string {
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) <= maxMsg {
		return msg
	}
	cut := maxMsg - len("…")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// roundDur rounds an elapsed time for messages: "1s", "250ms", "3.5ms".
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// timeoutMsg is the message of a probe that ran out of time.
func timeoutMsg(ctx context.Context, start time.Time) string {
	return "timeout after " + allowed(ctx, start)
}

// allowed is how long the probe had: from start to ctx's deadline (or to
// now, without one), rounded for messages. Not the time actually taken, so
// that messages say "timeout after 1s" whatever the scheduling delays.
func allowed(ctx context.Context, start time.Time) string {
	d := time.Since(start)
	if dl, ok := ctx.Deadline(); ok && dl.After(start) {
		d = dl.Sub(start)
	}
	return roundDur(d).String()
}

// ctxMsg is the message for a probe stopped by its context.
func ctxMsg(ctx context.Context, err error, start time.Time) string {
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		return "canceled"
	}
	return timeoutMsg(ctx, start)
}

// errMsg turns a probe error into a short message: timeouts become
// "timeout after X", network errors lose their addresses ("connect:
// connection refused").
func errMsg(ctx context.Context, err error, start time.Time) string {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ctxMsg(ctx, err, start)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return timeoutMsg(ctx, start)
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}

// isRefused reports whether err is ECONNREFUSED (for UDP: an ICMP port
// unreachable came back).
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// deadlineFrom returns ctx's deadline (Probe always sets one).
func deadlineFrom(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// watchConn makes a pending read or write on conn fail at once when ctx is
// cancelled; call the returned function when done with conn.
func watchConn(ctx context.Context, conn net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		_ = conn.SetDeadline(time.Unix(1, 0))
	})
}

// hostOnly strips a port from a host[:port] string and the brackets from an
// IPv6 literal.
func hostOnly(hostport string) string {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		if _, err := strconv.ParseUint(p, 10, 16); err == nil {
			return h
		}
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}
