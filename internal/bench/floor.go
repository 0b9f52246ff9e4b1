package bench

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Floor builds the benchmark table (Rules(n, m)) with the least work a
// netlink client can do: no rules to parse, no table read, no plan, all
// messages encoded up front into one buffer, FloorChunk messages per
// sendmsg, and an ack asked for only on the last message of each chunk (the
// kernel still answers every failure). It is the floor the benchmark
// compares luvs with, and it runs in the luvs binary (`luvs bench floor`) so
// that both pay the same process start.
func Floor(n, m int) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 8<<20); err != nil {
		return fmt.Errorf("SO_SNDBUFFORCE: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
		return fmt.Errorf("SO_RCVBUFFORCE: %w", err)
	}
	rbuf := make([]byte, 64<<10)

	// Resolve the IPVS family: CTRL_CMD_GETFAMILY with CTRL_ATTR_FAMILY_NAME.
	req := floorHdr(nil, 0x10, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 1, 3)
	req = floorAttr(req, 2, []byte("IPVS\x00"))
	floorLen(req, 0)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	var family uint16
	for family == 0 {
		k, _, err := unix.Recvfrom(fd, rbuf, 0)
		if err != nil {
			return err
		}
		for b := rbuf[:k]; len(b) >= 16; {
			l := int(binary.NativeEndian.Uint32(b))
			if l < 16 || l > len(b) {
				return fmt.Errorf("bad netlink message")
			}
			switch binary.NativeEndian.Uint16(b[4:]) {
			case unix.NLMSG_ERROR:
				if code := int32(binary.NativeEndian.Uint32(b[16:])); code != 0 {
					return fmt.Errorf("resolve IPVS: %v", unix.Errno(-code))
				}
			case 0x10:
				for a := b[20:l]; len(a) >= 4; {
					al := int(binary.NativeEndian.Uint16(a))
					if al < 4 || al > len(a) {
						break
					}
					if binary.NativeEndian.Uint16(a[2:]) == 1 {
						family = binary.NativeEndian.Uint16(a[4:])
					}
					a = a[min((al+3)&^3, len(a)):]
				}
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}

	// Encode every message. Addresses as in Rules.
	const chunk = FloorChunk
	total := n * (1 + m)
	buf := make([]byte, 0, total*168)
	var ends []int // end offset of each chunk
	var lastSeq []uint32
	seq := uint32(100)
	count := 0
	emit := func(b []byte, off int) []byte {
		count++
		if count%chunk == 0 || count == total {
			binary.NativeEndian.PutUint16(b[off+6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
			ends = append(ends, len(b))
			lastSeq = append(lastSeq, seq)
		}
		return b
	}
	for i := 0; i < n; i++ {
		vip := [4]byte{198, 18, byte(i / 250), byte(i%250 + 1)}
		seq++
		off := len(buf)
		buf = floorHdr(buf, family, unix.NLM_F_REQUEST, seq, 1) // IPVS_CMD_NEW_SERVICE
		nest := len(buf)
		buf = floorAttr(buf, 1|unix.NLA_F_NESTED, nil) // IPVS_CMD_ATTR_SERVICE
		buf = floorSvcKey(buf, vip)
		buf = floorAttr(buf, 6, []byte("wrr\x00"))                          // SCHED_NAME
		buf = floorAttr(buf, 7, []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}) // FLAGS
		buf = floorAttr(buf, 8, []byte{0, 0, 0, 0})                         // TIMEOUT
		buf = floorAttr(buf, 9, []byte{0xff, 0xff, 0xff, 0xff})             // NETMASK
		binary.NativeEndian.PutUint16(buf[nest:], uint16(len(buf)-nest))    // nest length
		floorLen(buf, off)
		buf = emit(buf, off)
		for j := 0; j < m; j++ {
			k := i*m + j
			seq++
			off := len(buf)
			buf = floorHdr(buf, family, unix.NLM_F_REQUEST, seq, 5) // IPVS_CMD_NEW_DEST
			nest := len(buf)
			buf = floorAttr(buf, 1|unix.NLA_F_NESTED, nil)
			buf = floorSvcKey(buf, vip)
			binary.NativeEndian.PutUint16(buf[nest:], uint16(len(buf)-nest))
			nest = len(buf)
			buf = floorAttr(buf, 2|unix.NLA_F_NESTED, nil) // IPVS_CMD_ATTR_DEST
			buf = floorU16(buf, 11, unix.AF_INET)          // ADDR_FAMILY
			a, port := k%64000, 8080+k/64000               // as Rules
			buf = floorAttr(buf, 1, []byte{198, 19, byte(a / 250), byte(a%250 + 1), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
			buf = floorAttr(buf, 2, []byte{byte(port >> 8), byte(port)}) // PORT
			buf = floorU32(buf, 3, 0)                                    // FWD_METHOD: masquerade
			buf = floorU32(buf, 4, uint32(1+j%5))                        // WEIGHT
			buf = floorU32(buf, 5, 0)                                    // U_THRESH
			buf = floorU32(buf, 6, 0)                                    // L_THRESH
			binary.NativeEndian.PutUint16(buf[nest:], uint16(len(buf)-nest))
			floorLen(buf, off)
			buf = emit(buf, off)
		}
	}

	// Send chunk by chunk; read answers until the ack of the chunk's last message.
	start := 0
	for c, end := range ends {
		if err := unix.Sendto(fd, buf[start:end], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		start = end
		for done := false; !done; {
			k, _, err := unix.Recvfrom(fd, rbuf, 0)
			if err != nil {
				return err
			}
			for b := rbuf[:k]; len(b) >= 36; {
				l := int(binary.NativeEndian.Uint32(b))
				if l < 16 || l > len(b) {
					return fmt.Errorf("bad netlink message")
				}
				if binary.NativeEndian.Uint16(b[4:]) == unix.NLMSG_ERROR {
					if code := int32(binary.NativeEndian.Uint32(b[16:])); code != 0 {
						return fmt.Errorf("request %d: %v", binary.NativeEndian.Uint32(b[28:]), unix.Errno(-code))
					}
					if binary.NativeEndian.Uint32(b[28:]) == lastSeq[c] {
						done = true
					}
				}
				b = b[min((l+3)&^3, len(b)):]
			}
		}
	}
	return nil
}

// FloorChunk is the number of messages Floor sends per sendmsg.
const FloorChunk = 4096

func floorHdr(b []byte, typ uint16, flags uint16, seq uint32, cmd uint8) []byte {
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	return append(b, cmd, 1, 0, 0)
}

func floorLen(b []byte, off int) { binary.NativeEndian.PutUint32(b[off:], uint32(len(b)-off)) }

func floorAttr(b []byte, typ uint16, val []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func floorU16(b []byte, typ, v uint16) []byte {
	var a [2]byte
	binary.NativeEndian.PutUint16(a[:], v)
	return floorAttr(b, typ, a[:])
}

func floorU32(b []byte, typ uint16, v uint32) []byte {
	var a [4]byte
	binary.NativeEndian.PutUint32(a[:], v)
	return floorAttr(b, typ, a[:])
}

// floorSvcKey appends AF, PROTOCOL, ADDR and PORT of TCP vip:80.
func floorSvcKey(b []byte, vip [4]byte) []byte {
	b = floorU16(b, 1, unix.AF_INET)
	b = floorU16(b, 2, unix.IPPROTO_TCP)
	b = floorAttr(b, 3, []byte{vip[0], vip[1], vip[2], vip[3], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	return floorAttr(b, 4, []byte{0, 80})
}
