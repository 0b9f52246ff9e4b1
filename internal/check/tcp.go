package check

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

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
	lat, err := connectAddr(ctx, netip.AddrPortFrom(t.Addr, t.Port))
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
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return connectAddr(ctx, ap)
	}
	return dialConnect(ctx, addr)
}

// dialConnect is Connect through net.Dialer (names, zones).
func dialConnect(ctx context.Context, addr string) (time.Duration, error) {
	start := time.Now()
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, errors.New(errMsg(ctx, err, start))
	}
	lat := time.Since(start)
	closeRST(conn)
	return lat, nil
}

// connectAddr is Connect to an address, with the least work: one
// non-blocking socket, set to reset at close, and a connect. A connect that
// completes within the call (a nearby target: the handshake runs in the
// kernel before connect returns) is seen by a poll(2) that does not wait,
// and the socket is closed without ever reaching the runtime's poller;
// otherwise the socket waits there for the handshake, until ctx is done.
// The messages are those of net.Dialer ("connect: connection refused",
// "timeout after 1s").
func connectAddr(ctx context.Context, ap netip.AddrPort) (time.Duration, error) {
	start := time.Now()
	a := ap.Addr()
	if a.Zone() != "" {
		return dialConnect(ctx, ap.String())
	}
	if err := ctx.Err(); err != nil {
		return 0, errors.New(ctxMsg(ctx, err, start))
	}
	var sa unix.Sockaddr
	family := unix.AF_INET6
	if a.Is4() || a.Is4In6() {
		sa, family = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}, unix.AF_INET
	} else {
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, os.NewSyscallError("socket", err)
	}
	// A reset instead of a FIN at close (see closeRST).
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	for {
		err = unix.Connect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	switch err {
	case nil:
	case unix.EINPROGRESS, unix.EALREADY:
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		if n, perr := unix.Poll(pfd, 0); perr == nil && n == 1 {
			err = soError(fd)
			break
		}
		return waitConnect(ctx, fd, start)
	default:
		err = os.NewSyscallError("connect", err)
	}
	lat := time.Since(start)
	unix.Close(fd)
	// The probe never waited: let other goroutines run (in a process that
	// also serves what it probes, its accept loop).
	runtime.Gosched()
	if err != nil {
		return 0, errors.New(errMsg(ctx, err, start))
	}
	return lat, nil
}

// soError is the outcome of a finished non-blocking connect.
func soError(fd int) error {
	e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	if e != 0 {
		return os.NewSyscallError("connect", unix.Errno(e))
	}
	return nil
}

// waitConnect waits in the runtime's poller for the connect in progress on
// fd to finish, until ctx is done, and closes fd.
func waitConnect(ctx context.Context, fd int, start time.Time) (time.Duration, error) {
	f := os.NewFile(uintptr(fd), "tcp")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = f.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	var cerr error
	first := true
	werr := rc.Write(func(fd uintptr) bool {
		if first { // connect is in progress: wait for writability
			first = false
			return false
		}
		cerr = soError(int(fd))
		return !errors.Is(cerr, unix.EINPROGRESS) && !errors.Is(cerr, unix.EALREADY) && !errors.Is(cerr, unix.EINTR)
	})
	lat := time.Since(start)
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		return 0, errors.New(errMsg(ctx, werr, start))
	}
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
