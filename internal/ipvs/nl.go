package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Netlink framing. The generic netlink socket is small and local because bulk
// apply needs what general-purpose netlink libraries (mdlayher/netlink,
// vishvananda/netlink) do not offer: many requests in one sendmsg, acks only
// for errors, and replies matched to requests by sequence number without one
// failure hiding the others (mdlayher/netlink's Receive returns the first
// error of a datagram and drops the rest).

const (
	nlmsgHdrLen  = 16
	genlHdrLen   = 4
	wantRcvBuf   = 8 << 20 // room for ~8,000 error replies
	wantSndBuf   = 4 << 20
	ioTimeout    = 30 * time.Second
	genlIDCtrl   = 0x10
	ctrlCmdGetFa = 3
	ctrlAttrID   = 1
	ctrlAttrName = 2
	nlmsgerrMsg  = 1 // NLMSGERR_ATTR_MSG
)

// message is one received netlink message.
type message struct {
	typ   uint16
	flags uint16
	seq   uint32
	data  []byte // payload after the netlink header
}

// conn is a generic netlink socket bound to one family.
type conn struct {
	fd      int
	pid     uint32
	seq     uint32
	family  uint16
	rcvBuf  int
	sndBuf  int
	recvBuf []byte    // recvBatch buffers of recvBufSize, one per datagram
	msgs    []message // reused by receive
	hdrs    [recvBatch]unix.Mmsghdr
	iovs    [recvBatch]unix.Iovec
}

// recvBatch is how many datagrams one receive takes (recvmmsg). A dump
// answers one datagram per read and queues the next one (often just
// NLMSG_DONE) while that read runs, so reading several at once saves a
// system call per dump: a table read makes one dump per service.
const recvBatch = 4

// recvBufSize is the size of each receive buffer. The kernel sizes a dump's
// skbs by the largest buffer we have received into, but at least
// NLMSG_GOODSIZE (a page less struct skb_shared_info: 3,776 bytes with 4 KiB
// pages on 64-bit kernels) and fills them up to that. A buffer of exactly
// NLMSG_GOODSIZE keeps every skb a single page: in the VM, listing 1,000 x
// 10 ran ~30% faster than with 8 KiB (order-2 allocations), which was ~10%
// faster than 64 KiB. Where the page size differs, 8 KiB (not smaller than
// NLMSG_GOODSIZE with 8 or 16 KiB pages) stays safe: a buffer below
// NLMSG_GOODSIZE would truncate full dump skbs.
var recvBufSize = func() int {
	if os.Getpagesize() == 4096 && unsafe.Sizeof(uintptr(0)) == 8 {
		return 4096 - 320
	}
	return 8 << 10
}()

func dialNetlink() (*conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("open netlink socket: %w", err)
	}
	c := &conn{fd: fd, seq: uint32(time.Now().UnixNano()), recvBuf: make([]byte, recvBatch*recvBufSize)}
	for i := range c.hdrs {
		c.iovs[i].Base = &c.recvBuf[i*recvBufSize]
		c.iovs[i].SetLen(recvBufSize)
		c.hdrs[i].Hdr.Iov = &c.iovs[i]
		c.hdrs[i].Hdr.SetIovlen(1)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		c.close()
		return nil, fmt.Errorf("bind netlink socket: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("netlink getsockname: %w", err)
	}
	c.pid = sa.(*unix.SockaddrNetlink).Pid
	// Errors come back without the request echoed (36 bytes each) and with the
	// kernel's explanation when it gives one. Both are best effort.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	// Large buffers need CAP_NET_ADMIN (the FORCE variants); fall back quietly.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, wantRcvBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, wantRcvBuf)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, wantSndBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, wantSndBuf)
	}
	c.rcvBuf, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	c.sndBuf, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	tv := unix.NsecToTimeval(ioTimeout.Nanoseconds())
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	return c, nil
}

func (c *conn) close() error { return unix.Close(c.fd) }

func (c *conn) nextSeq() uint32 {
	c.seq++
	return c.seq
}

// appendMsg appends one netlink message (header, generic netlink header and
// attributes) to b.
func appendMsg(b []byte, typ, flags uint16, seq uint32, cmd, version uint8, attrs []byte) []byte {
	off := len(b)
	b = appendMsgHeader(b, typ, flags, seq, cmd, version)
	return finishMsg(append(b, attrs...), off, cmd)
}

// appendMsgHeader appends the netlink and generic netlink headers of a
// message whose attributes the caller appends next; finishMsg completes it.
func appendMsgHeader(b []byte, typ, flags uint16, seq uint32, cmd, version uint8) []byte {
	b = binary.NativeEndian.AppendUint32(b, 0) // length, set by finishMsg
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	return append(b, cmd, version, 0, 0)
}

// finishMsg sets the length and command of the message starting at off.
func finishMsg(b []byte, off int, cmd uint8) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	binary.NativeEndian.PutUint32(b[off:], uint32(len(b)-off))
	b[off+nlmsgHdrLen] = cmd
	return b
}

func (c *conn) send(b []byte) error {
	for {
		err := unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("netlink send: %w", err)
		}
		return nil
	}
}

// receive reads the datagrams waiting (at least one, at most recvBatch)
// and splits them into messages. The returned messages alias the receive
// buffers until the next call.
func (c *conn) receive() ([]message, error) {
	for {
		for i := range c.hdrs {
			c.hdrs[i].Hdr.Flags, c.hdrs[i].Len = 0, 0
		}
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.hdrs[0])), recvBatch,
			unix.MSG_WAITFORONE, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
				return nil, fmt.Errorf("netlink receive: no answer from the kernel in %s", ioTimeout)
			}
			return nil, fmt.Errorf("netlink receive: %w", e)
		}
		c.msgs = c.msgs[:0]
		for i := 0; i < int(n); i++ {
			if c.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
				return nil, errors.New("netlink receive: message truncated")
			}
			b := c.recvBuf[i*recvBufSize : i*recvBufSize+int(c.hdrs[i].Len)]
			var err error
			if c.msgs, err = appendMessages(c.msgs, b); err != nil {
				return nil, err
			}
		}
		return c.msgs, nil
	}
}

func parseMessages(b []byte) ([]message, error) {
	return appendMessages(nil, b)
}

// appendMessages splits a datagram into messages, appending them to msgs.
func appendMessages(msgs []message, b []byte) ([]message, error) {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		if l < nlmsgHdrLen || l > len(b) {
			return nil, fmt.Errorf("netlink receive: bad message length %d", l)
		}
		msgs = append(msgs, message{
			typ:   binary.NativeEndian.Uint16(b[4:6]),
			flags: binary.NativeEndian.Uint16(b[6:8]),
			seq:   binary.NativeEndian.Uint32(b[8:12]),
			data:  b[nlmsgHdrLen:l],
		})
		al := (l + 3) &^ 3
		if al > len(b) {
			break
		}
		b = b[al:]
	}
	return msgs, nil
}

// nlError decodes an NLMSG_ERROR payload: the errno (0 for an ack), the
// sequence number of the request it answers, and the kernel's message if any.
func nlError(m message) (errno unix.Errno, seq uint32, text string) {
	if len(m.data) < 4+nlmsgHdrLen {
		return unix.EPROTO, m.seq, ""
	}
	code := int32(binary.NativeEndian.Uint32(m.data[0:4]))
	seq = binary.NativeEndian.Uint32(m.data[4+8 : 4+12])
	if code < 0 {
		errno = unix.Errno(-code)
	}
	if m.flags&unix.NLM_F_ACK_TLVS != 0 {
		off := 4 + nlmsgHdrLen
		if m.flags&unix.NLM_F_CAPPED == 0 {
			off = 4 + int(binary.NativeEndian.Uint32(m.data[4:8]))
		}
		if off <= len(m.data) {
			r := attrReader{b: m.data[off:]}
			for r.next() {
				if r.typ == nlmsgerrMsg {
					text = r.str()
				}
			}
		}
	}
	return errno, seq, text
}

// kernelError is an errno from the kernel with its optional explanation.
type kernelError struct {
	Errno unix.Errno
	Text  string
}

func (e *kernelError) Error() string {
	if e.Text != "" {
		return e.Text + " (" + unix.ErrnoName(e.Errno) + ")"
	}
	return e.Errno.Error() + " (" + unix.ErrnoName(e.Errno) + ")"
}

func (e *kernelError) Unwrap() error { return e.Errno }

// request sends one request and passes the attributes of every reply message
// to fn. Dumps end with NLMSG_DONE, other requests with their ack.
func (c *conn) request(typ uint16, cmd, version uint8, dump bool, attrs []byte, fn func(attrs []byte) error) error {
	seq := c.nextSeq()
	flags := uint16(unix.NLM_F_REQUEST | unix.NLM_F_ACK)
	if dump {
		flags = unix.NLM_F_REQUEST | unix.NLM_F_DUMP
	}
	if err := c.send(appendMsg(nil, typ, flags, seq, cmd, version, attrs)); err != nil {
		return err
	}
	var cbErr error
	for {
		msgs, err := c.receive()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.seq != seq {
				continue // a late answer to an earlier, abandoned request
			}
			switch m.typ {
			case unix.NLMSG_DONE:
				return cbErr
			case unix.NLMSG_ERROR:
				errno, _, text := nlError(m)
				if errno != 0 {
					return &kernelError{Errno: errno, Text: text}
				}
				if !dump {
					return cbErr
				}
			case unix.NLMSG_NOOP:
			default:
				if len(m.data) < genlHdrLen {
					return errors.New("netlink receive: short generic netlink message")
				}
				if cbErr == nil && fn != nil {
					cbErr = fn(m.data[genlHdrLen:])
				}
			}
		}
	}
}

// resolveFamily looks up a generic netlink family id by name.
func (c *conn) resolveFamily(name string) (uint16, error) {
	var w attrWriter
	w.str(ctrlAttrName, name)
	var id uint16
	err := c.request(genlIDCtrl, ctrlCmdGetFa, 1, false, w.b, func(b []byte) error {
		r := attrReader{b: b}
		for r.next() {
			if r.typ == ctrlAttrID {
				id = r.u16()
			}
		}
		return r.err
	})
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, fmt.Errorf("generic netlink family %s: no id in reply", name)
	}
	return id, nil
}

func isNotExist(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, os.ErrNotExist)
}
