// Package vrrp implements VRRP version 3 (RFC 5798) for IPv4 and IPv6: the
// advertisement's wire format (packet.go), the per virtual router state
// machine (instance.go), and a transport over raw IP sockets with the
// virtual addresses managed through netlink (net.go).
//
// It interoperates with keepalived (tested with 2.2.7 and vrrp_version 3,
// IPv4 and IPv6, multicast and unicast_peer). There is no authentication
// in VRRPv3, and no virtual MAC: the interface's own address answers for
// the virtual addresses, as keepalived does without use_vmac.
package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Protocol numbers, groups and limits of RFC 5798.
const (
	// IPProtocol is VRRP's IP protocol number (RFC 5798 §5.1.1.3).
	IPProtocol = 112
	// TTL is the IPv4 TTL and IPv6 hop limit of every advertisement; a
	// packet received with any other is discarded (§5.1.1.3, §7.1).
	TTL = 255
	// Version is the protocol version implemented here.
	Version = 3
	// TypeAdvertisement is the only VRRPv3 packet type (§5.2.2).
	TypeAdvertisement = 1
	// HeaderLen is the length of the fixed part of an advertisement.
	HeaderLen = 8
	// MaxAdvertInterval is the largest advertisement interval the 12-bit
	// centisecond field can carry (40.95 s).
	MaxAdvertInterval = 4095 * centisecond
	// PriorityOwner is the priority of the router owning the virtual
	// addresses (§5.2.4).
	PriorityOwner = 255
	// PriorityShutdown in an advertisement says that the master stops
	// (§5.2.4).
	PriorityShutdown = 0
)

// The groups advertisements are sent to (§5.1.1.2, §5.1.2.2).
var (
	GroupIPv4 = netip.MustParseAddr("224.0.0.18")
	GroupIPv6 = netip.MustParseAddr("ff02::12")
)

const centisecond = 10 * time.Millisecond

// Group returns the multicast group of the address family of a.
func Group(a netip.Addr) netip.Addr {
	if a.Is4() {
		return GroupIPv4
	}
	return GroupIPv6
}

// Advertisement is a VRRPv3 ADVERTISEMENT (RFC 5798 §5.2), without the IP
// header. Addresses are all IPv4 or all IPv6, the family of the IP packet.
type Advertisement struct {
	VRID     uint8
	Priority uint8
	// Interval is the Max Adver Int, a multiple of 10 ms below 40.96 s.
	Interval  time.Duration
	Addresses []netip.Addr
}

// Errors returned by Decode, wrapped with details.
var (
	ErrTruncated = errors.New("truncated VRRP packet")
	ErrVersion   = errors.New("not VRRP version 3")
	ErrType      = errors.New("unknown VRRP packet type")
	ErrChecksum  = errors.New("bad VRRP checksum")
	ErrLength    = errors.New("address count does not match the packet length")
	ErrFamily    = errors.New("address family mismatch")
)

// addrLen is the length of the addresses of src's family.
func addrLen(src netip.Addr) int {
	if src.Is4() {
		return 4
	}
	return 16
}

// Marshal encodes the advertisement sent from src to dst (the group, or a
// unicast peer), whose addresses make the checksum's pseudo-header.
func (a *Advertisement) Marshal(src, dst netip.Addr) ([]byte, error) {
	src, dst = src.Unmap(), dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return nil, fmt.Errorf("vrrp: advertisement from %v to %v: %w", src, dst, ErrFamily)
	}
	if len(a.Addresses) > 255 {
		return nil, fmt.Errorf("vrrp: %d addresses in an advertisement: at most 255", len(a.Addresses))
	}
	if a.Interval < 0 || a.Interval > MaxAdvertInterval {
		return nil, fmt.Errorf("vrrp: advertisement interval %v out of range (0-%v)", a.Interval, MaxAdvertInterval)
	}
	n := addrLen(src)
	b := make([]byte, HeaderLen+n*len(a.Addresses))
	b[0] = Version<<4 | TypeAdvertisement
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = uint8(len(a.Addresses))
	binary.BigEndian.PutUint16(b[4:], uint16(a.Interval/centisecond)&0x0fff)
	for i, addr := range a.Addresses {
		switch {
		case src.Is4() && addr.Unmap().Is4():
			a4 := addr.Unmap().As4()
			copy(b[HeaderLen+i*n:], a4[:])
		case !src.Is4() && addr.Is6():
			a16 := addr.As16()
			copy(b[HeaderLen+i*n:], a16[:])
		default:
			return nil, fmt.Errorf("vrrp: virtual address %v in an advertisement from %v: %w", addr, src, ErrFamily)
		}
	}
	binary.BigEndian.PutUint16(b[6:], Checksum(src, dst, b))
	return b, nil
}

// Unmarshal decodes and checks (§7.1) the VRRP message b received from src
// to dst: version 3, type ADVERTISEMENT, the address count matching its
// length exactly, and the checksum. The caller checks the IP TTL and the
// VRID. On error a is unchanged.
func (a *Advertisement) Unmarshal(src, dst netip.Addr, b []byte) error {
	src, dst = src.Unmap(), dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return fmt.Errorf("vrrp: packet from %v to %v: %w", src, dst, ErrFamily)
	}
	if len(b) < HeaderLen {
		return fmt.Errorf("vrrp: %d bytes from %v: %w", len(b), src, ErrTruncated)
	}
	if v := b[0] >> 4; v != Version {
		return fmt.Errorf("vrrp: version %d from %v: %w", v, src, ErrVersion)
	}
	if t := b[0] & 0x0f; t != TypeAdvertisement {
		return fmt.Errorf("vrrp: type %d from %v: %w", t, src, ErrType)
	}
	n := addrLen(src)
	count := int(b[3])
	end := HeaderLen + count*n
	if len(b) < end {
		return fmt.Errorf("vrrp: %d addresses in %d bytes from %v: %w", count, len(b), src, ErrLength)
	}
	if len(b) > end {
		return fmt.Errorf("vrrp: %d addresses in %d bytes from %v: %w", count, len(b), src, ErrLength)
	}
	if c := Checksum(src, dst, b); c != 0 {
		return fmt.Errorf("vrrp: advertisement from %v (checksum %#04x): %w", src, binary.BigEndian.Uint16(b[6:]), ErrChecksum)
	}
	a.VRID = b[1]
	a.Priority = b[2]
	a.Interval = time.Duration(binary.BigEndian.Uint16(b[4:])&0x0fff) * centisecond
	a.Addresses = make([]netip.Addr, count)
	for i := range count {
		p := b[HeaderLen+i*n : HeaderLen+(i+1)*n]
		if n == 4 {
			a.Addresses[i] = netip.AddrFrom4([4]byte(p))
		} else {
			a.Addresses[i] = netip.AddrFrom16([16]byte(p))
		}
	}
	return nil
}

// Checksum returns the Internet checksum (RFC 1071) of the VRRP message b
// and the pseudo-header of src, dst, protocol 112 and b's length (§5.2.8;
// the IPv4 or IPv6 one). It is zero over a message whose checksum field is
// right, and the field's value over one whose field is zero.
func Checksum(src, dst netip.Addr, b []byte) uint16 {
	var sum uint32
	add := func(p []byte) {
		for len(p) >= 2 {
			sum += uint32(p[0])<<8 | uint32(p[1])
			p = p[2:]
		}
		if len(p) == 1 {
			sum += uint32(p[0]) << 8
		}
	}
	add(src.Unmap().AsSlice())
	add(dst.Unmap().AsSlice())
	sum += IPProtocol
	sum += uint32(len(b)) & 0xffff
	sum += uint32(len(b)) >> 16
	add(b)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
