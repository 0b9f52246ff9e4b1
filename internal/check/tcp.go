package check

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"
	"unsafe"

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
	if t.Source.IsValid() {
		return tcpResult(dialConnect(ctx, dialerFor(t, "tcp"), t.String()))
	}
	return tcpResult(connectAddr(ctx, netip.AddrPortFrom(t.Addr, t.Port)))
}

func (tcpChecker) probeBy(ctx context.Context, deadline time.Time, t Target, start time.Time) Result {
	return tcpResult(connectBy(ctx, deadline, netip.AddrPortFrom(t.Addr, t.Port)))
}

func (tcpChecker) tryProbeBy(ctx context.Context, deadline time.Time, t Target, start time.Time) (Result, func() Result) {
	lat, wait, err := tryConnect(ctx, deadline, netip.AddrPortFrom(t.Addr, t.Port))
	if wait != nil {
		return Result{}, func() Result { return tcpResult(wait()) }
	}
	return tcpResult(lat, err), nil
}

func tcpResult(lat time.Duration, err error) Result {
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
	return dialConnect(ctx, &dialer, addr)
}

// dialConnect is Connect through a net.Dialer (names, zones, a source).
func dialConnect(ctx context.Context, d *net.Dialer, addr string) (time.Duration, error) {
	start := time.Now()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, errors.New(errMsg(ctx, err, start))
	}
	lat := time.Since(start)
	closeRST(conn)
	return lat, nil
}

// connectAddr is Connect to an address, by ctx's deadline.
func connectAddr(ctx context.Context, ap netip.AddrPort) (time.Duration, error) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(model.DefaultTimeout)
	}
	return connectBy(ctx, d, ap)
}

// connectBy is Connect to an address, by deadline (ctx only cancels), with
// the least work: one non-blocking socket, set to reset at close, and a
// connect. A connect that completes within the call (a nearby target: the
// handshake runs in the kernel before connect returns) is seen by a second
// connect (0 once connected, EALREADY while in progress, else the error),
// and the socket is closed without ever reaching the runtime's poller;
// otherwise it waits there for the handshake. Nothing is allocated on the
// way to a success. The messages are those of net.Dialer ("connect:
// connection refused", "timeout after 1s").
func connectBy(ctx context.Context, deadline time.Time, ap netip.AddrPort) (time.Duration, error) {
	lat, wait, err := tryConnect(ctx, deadline, ap)
	if wait != nil {
		return wait()
	}
	// The probe never waited: let other goroutines run, as a probe that
	// waits would (in a process that also serves what it probes, its
	// accept loop). The daemon's scheduler calls tryConnect instead.
	runtime.Gosched()
	return lat, err
}

// tryConnect is connectBy up to the wait: when the connect needs waiting
// for it returns wait, which does that (and closes the socket).
func tryConnect(ctx context.Context, deadline time.Time, ap netip.AddrPort) (time.Duration, func() (time.Duration, error), error) {
	start := time.Now()
	a := ap.Addr()
	if a.Zone() != "" {
		return 0, func() (time.Duration, error) {
			ctx, cancel := context.WithDeadline(ctx, deadline)
			defer cancel()
			return dialConnect(ctx, &dialer, ap.String())
		}, nil
	}
	msg := func(err error) error { return errors.New(errMsg(byDeadline{ctx, deadline}, err, start)) }
	if ctx.Err() != nil || !start.Before(deadline) {
		return 0, nil, msg(context.DeadlineExceeded)
	}
	family := unix.AF_INET6
	if a.Is4() || a.Is4In6() {
		family = unix.AF_INET
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, nil, os.NewSyscallError("socket", err)
	}
	// A reset instead of a FIN at close (see closeRST).
	_, _, _ = unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER,
		uintptr(unsafe.Pointer(&linger0)), unsafe.Sizeof(linger0), 0)
	err = rawConnect(fd, ap)
	if err == unix.EINPROGRESS {
		err = rawConnect(fd, ap)
		if err == unix.EALREADY || err == unix.EINPROGRESS {
			return 0, func() (time.Duration, error) { return waitConnect(ctx, deadline, fd, start) }, nil
		}
	}
	if err == unix.EISCONN {
		err = nil
	}
	lat := time.Since(start)
	// Not unix.Close: a socket closed with a reset does not block.
	_, _, _ = unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	if err != nil {
		return 0, nil, msg(os.NewSyscallError("connect", err))
	}
	return lat, nil, nil
}

var linger0 = unix.Linger{Onoff: 1, Linger: 0}

// rawConnect is connect(2) of fd to ap, retried on EINTR, with the socket
// address on the stack. fd is non-blocking, so that connect does not block:
// it is a raw system call, which keeps the goroutine's thread and P (a
// blocking one lets the scheduler hand the P to another thread, and each
// probe would cost thread switches).
func rawConnect(fd int, ap netip.AddrPort) error {
	var sa4 unix.RawSockaddrInet4
	var sa6 unix.RawSockaddrInet6
	var p unsafe.Pointer
	var n uintptr
	port := ap.Port()
	if a := ap.Addr(); a.Is4() || a.Is4In6() {
		sa4.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], port)
		sa4.Addr = a.Unmap().As4()
		p, n = unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
	} else {
		sa6.Family = unix.AF_INET6
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa6.Port))[:], port)
		sa6.Addr = a.As16()
		p, n = unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
	}
	for {
		_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(p), n)
		if e != unix.EINTR {
			if e == 0 {
				return nil
			}
			return e
		}
	}
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
// fd to finish, until deadline or ctx is done, and closes fd.
func waitConnect(ctx context.Context, deadline time.Time, fd int, start time.Time) (time.Duration, error) {
	f := os.NewFile(uintptr(fd), "tcp")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	_ = f.SetWriteDeadline(deadline)
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
		return 0, errors.New(errMsg(byDeadline{ctx, deadline}, werr, start))
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
