package vrrp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// NetConfig says where a NetTransport or NetAddresses works. Both make
// their sockets (raw IP, packet, netlink) in the network namespace of the
// calling thread, and keep working there whatever thread uses them.
type NetConfig struct {
	// Interface is the name of the interface the virtual router is on.
	Interface string
	// IPv6 selects IPv6 (ff02::12, link-local source) rather than IPv4.
	IPv6 bool
	// Source is the address advertisements are sent from; unset, the
	// interface's primary IPv4 address or its IPv6 link-local address.
	Source netip.Addr
	// VirtualAddresses are never chosen as Source.
	VirtualAddresses []netip.Addr
	// Unicast does not join the group: the instance has unicast Peers.
	Unicast bool
	// AnyUnicastTTL accepts unicast advertisements whatever their TTL
	// (hop limit), against RFC 5798 §7.1: keepalived (2.2.7) sends IPv6
	// unicast ones with the default hop limit, 64.
	AnyUnicastTTL bool
	// PrefixLen gives the prefix length a virtual address is added with
	// (198.18.0.10/24); one not listed is added as a host address.
	PrefixLen map[netip.Addr]int
	// Log is nil for slog.Default().
	Log *slog.Logger
}

// iface looks the interface up with netlink.
func iface(h *netlink.Handle, name string) (netlink.Link, *net.Interface, error) {
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, nil, fmt.Errorf("vrrp: interface %q: %w", name, err)
	}
	a := l.Attrs()
	ifi := &net.Interface{Index: a.Index, MTU: a.MTU, Name: a.Name, HardwareAddr: a.HardwareAddr, Flags: a.Flags}
	return l, ifi, nil
}

// primaryAddr returns the interface's primary IPv4 address (the first not
// secondary, not virtual) or its first usable IPv6 link-local address.
func primaryAddr(h *netlink.Handle, l netlink.Link, v6 bool, virtual []netip.Addr) (netip.Addr, error) {
	family := netlink.FAMILY_V4
	if v6 {
		family = netlink.FAMILY_V6
	}
	addrs, err := h.AddrList(l, family)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("vrrp: addresses of %s: %w", l.Attrs().Name, err)
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if slices.Contains(virtual, ip) {
			continue
		}
		if v6 {
			if ip.Is6() && ip.IsLinkLocalUnicast() && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
				return ip, nil
			}
		} else if ip.Is4() && a.Flags&unix.IFA_F_SECONDARY == 0 {
			return ip, nil
		}
	}
	what := "primary IPv4 address"
	if v6 {
		what = "usable IPv6 link-local address"
	}
	return netip.Addr{}, fmt.Errorf("vrrp: interface %s has no %s", l.Attrs().Name, what)
}

// NetTransport is a Transport over a raw IP socket (protocol 112) joined
// to the group on one interface. Packets are sent with TTL (hop limit)
// 255; those received with another, on another interface or failing
// Unmarshal are discarded. Its owner closes it after the Instance's Run
// returned.
type NetTransport struct {
	ifi  *net.Interface
	v6   bool
	src  netip.Addr
	p4   *ipv4.PacketConn
	p6   *ipv6.PacketConn
	conn net.PacketConn
	log  *slog.Logger
	rx   chan Received
	// anyUnicastTTL is NetConfig.AnyUnicastTTL.
	anyUnicastTTL bool

	done      chan struct{}
	closeOnce sync.Once
}

// ListenNet opens a NetTransport as cfg says, and starts receiving.
func ListenNet(cfg NetConfig) (*NetTransport, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("vrrp: netlink: %w", err)
	}
	defer h.Close()
	l, ifi, err := iface(h, cfg.Interface)
	if err != nil {
		return nil, err
	}
	src := cfg.Source.Unmap()
	if !src.IsValid() {
		if src, err = primaryAddr(h, l, cfg.IPv6, cfg.VirtualAddresses); err != nil {
			return nil, err
		}
	}
	if src.Is4() == cfg.IPv6 {
		return nil, fmt.Errorf("vrrp: source address %v is not of the transport's family", src)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	t := &NetTransport{ifi: ifi, v6: cfg.IPv6, src: src, log: cfg.Log, rx: make(chan Received, 16), done: make(chan struct{}), anyUnicastTTL: cfg.AnyUnicastTTL}
	if err := t.open(cfg.Unicast); err != nil {
		if t.conn != nil {
			t.conn.Close()
		}
		return nil, fmt.Errorf("vrrp: on %s: %w", ifi.Name, err)
	}
	go t.read()
	return t, nil
}

// open makes the socket and sets its options.
func (t *NetTransport) open(unicast bool) error {
	network, any := "ip4:112", "0.0.0.0"
	if t.v6 {
		network, any = "ip6:112", "::"
	}
	c, err := net.ListenPacket(network, any)
	if err != nil {
		return err
	}
	t.conn = c
	group := &net.IPAddr{IP: Group(t.src).AsSlice()}
	if t.v6 {
		p := ipv6.NewPacketConn(c)
		t.p6 = p
		for _, err := range []error{
			p.SetHopLimit(TTL),
			p.SetMulticastHopLimit(TTL),
			p.SetMulticastInterface(t.ifi),
			p.SetMulticastLoopback(false),
			p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true),
		} {
			if err != nil {
				return err
			}
		}
		if !unicast {
			return p.JoinGroup(t.ifi, group)
		}
		return nil
	}
	p := ipv4.NewPacketConn(c)
	t.p4 = p
	for _, err := range []error{
		p.SetTTL(TTL),
		p.SetMulticastTTL(TTL),
		p.SetMulticastInterface(t.ifi),
		p.SetMulticastLoopback(false),
		p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true),
	} {
		if err != nil {
			return err
		}
	}
	if !unicast {
		return p.JoinGroup(t.ifi, group)
	}
	return nil
}

// LocalAddr returns the source address of the advertisements.
func (t *NetTransport) LocalAddr() netip.Addr { return t.src }

// Receive returns the advertisements received; it is closed by Close or
// when the socket fails.
func (t *NetTransport) Receive() <-chan Received { return t.rx }

// Send sends adv to dst (the group or a unicast peer) from LocalAddr.
func (t *NetTransport) Send(adv *Advertisement, dst netip.Addr) error {
	b, err := adv.Marshal(t.src, dst)
	if err != nil {
		return err
	}
	to := &net.IPAddr{IP: dst.AsSlice()}
	if t.v6 {
		if dst.IsLinkLocalUnicast() {
			to.Zone = t.ifi.Name
		}
		_, err = t.p6.WriteTo(b, &ipv6.ControlMessage{HopLimit: TTL, Src: t.src.AsSlice(), IfIndex: t.ifi.Index}, to)
	} else {
		_, err = t.p4.WriteTo(b, &ipv4.ControlMessage{Src: t.src.AsSlice(), IfIndex: t.ifi.Index}, to)
	}
	if err != nil {
		return fmt.Errorf("vrrp: send to %v on %s: %w", dst, t.ifi.Name, err)
	}
	return nil
}

// Close closes the socket; Receive's channel closes.
func (t *NetTransport) Close() error {
	var err error
	t.closeOnce.Do(func() {
		close(t.done)
		err = t.conn.Close()
	})
	return err
}

// read receives until the socket is closed or fails.
func (t *NetTransport) read() {
	defer close(t.rx)
	buf := make([]byte, 1<<16)
	for {
		var (
			n        int
			from     net.Addr
			ttl, idx int
			dstIP    net.IP
			err      error
		)
		if t.v6 {
			var cm *ipv6.ControlMessage
			n, cm, from, err = t.p6.ReadFrom(buf)
			if cm != nil {
				ttl, idx, dstIP = cm.HopLimit, cm.IfIndex, cm.Dst
			}
		} else {
			var cm *ipv4.ControlMessage
			n, cm, from, err = t.p4.ReadFrom(buf)
			if cm != nil {
				ttl, idx, dstIP = cm.TTL, cm.IfIndex, cm.Dst
			}
		}
		if err != nil {
			select {
			case <-t.done:
			default:
				t.log.Error("vrrp: receive failed", "interface", t.ifi.Name, "err", err)
			}
			return
		}
		if idx != t.ifi.Index {
			t.log.Debug("vrrp: packet from another interface: discarded", "from", from, "ifindex", idx)
			continue
		}
		ia, _ := from.(*net.IPAddr)
		if ia == nil {
			continue
		}
		src, _ := netip.AddrFromSlice(ia.IP)
		dst, _ := netip.AddrFromSlice(dstIP)
		src, dst = src.Unmap(), dst.Unmap()
		if ttl != TTL && !(t.anyUnicastTTL && !dst.IsMulticast()) {
			t.log.Warn("vrrp: advertisement with TTL (hop limit) other than 255: discarded", "from", src, "ttl", ttl)
			continue
		}
		r := Received{Src: src, Dst: dst}
		err = r.Unmarshal(src, dst, buf[:n])
		if errors.Is(err, ErrChecksum) && dst.Is4() && dst != GroupIPv4 {
			// keepalived before 2.0 (and with old_unicast_checksum)
			// sums unicast IPv4 advertisements with the group as the
			// destination.
			err = r.Unmarshal(src, GroupIPv4, buf[:n])
		}
		if err != nil {
			t.log.Warn("vrrp: bad advertisement: discarded", "from", src, "err", err)
			continue
		}
		select {
		case t.rx <- r:
		case <-t.done:
			return
		}
	}
}

// NetAddresses is an AddressManager that adds and removes the virtual
// addresses on an interface with netlink (IPv4 /32, IPv6 /128 without
// duplicate address detection), and announces them with gratuitous ARP
// or unsolicited neighbour advertisements from the interface's own MAC
// address (no virtual MAC).
type NetAddresses struct {
	h      *netlink.Handle
	link   netlink.Link
	ifi    *net.Interface
	arp    *arp.Client
	ndp    *ndp.Conn
	prefix map[netip.Addr]int
}

// NewNetAddresses opens the netlink and ARP or NDP sockets for the
// interface of cfg (only its Interface, IPv6 and PrefixLen are used).
func NewNetAddresses(cfg NetConfig) (*NetAddresses, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("vrrp: netlink: %w", err)
	}
	l, ifi, err := iface(h, cfg.Interface)
	if err != nil {
		h.Close()
		return nil, err
	}
	m := &NetAddresses{h: h, link: l, ifi: ifi, prefix: cfg.PrefixLen}
	if cfg.IPv6 {
		c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
		if err == nil {
			var f ipv6.ICMPFilter
			f.SetAll(true) // it only sends
			err = c.SetICMPFilter(&f)
			m.ndp = c
		}
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("vrrp: NDP on %s: %w", ifi.Name, err)
		}
		return m, nil
	}
	// Protocol 0: the socket sends, receives nothing.
	p, err := packet.Listen(ifi, packet.Raw, 0, nil)
	if err == nil {
		var c *arp.Client
		if c, err = arp.New(ifi, p); err == nil {
			m.arp = c
		} else {
			p.Close()
		}
	}
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("vrrp: ARP on %s: %w", ifi.Name, err)
	}
	return m, nil
}

func (m *NetAddresses) nlAddr(a netip.Addr) *netlink.Addr {
	a = a.Unmap()
	bits := a.BitLen()
	if n, ok := m.prefix[a]; ok && n > 0 && n <= bits {
		bits = n
	}
	na := &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(bits, a.BitLen())}}
	if a.Is6() {
		na.Flags = unix.IFA_F_NODAD
	}
	return na
}

// AddAddresses adds the addresses not on the interface yet.
func (m *NetAddresses) AddAddresses(addrs []netip.Addr) error {
	var errs []error
	for _, a := range addrs {
		if err := m.h.AddrAdd(m.link, m.nlAddr(a)); err != nil && !errors.Is(err, unix.EEXIST) {
			errs = append(errs, fmt.Errorf("vrrp: add %v to %s: %w", a, m.ifi.Name, err))
		}
	}
	return errors.Join(errs...)
}

// RemoveAddresses removes those of the addresses on the interface.
func (m *NetAddresses) RemoveAddresses(addrs []netip.Addr) error {
	var errs []error
	for _, a := range addrs {
		if err := m.h.AddrDel(m.link, m.nlAddr(a)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			errs = append(errs, fmt.Errorf("vrrp: remove %v from %s: %w", a, m.ifi.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Announce sends, for each address, a gratuitous ARP request (sender and
// target the address, to the broadcast address) or an unsolicited
// neighbour advertisement to all nodes (ff02::1) with the Router and
// Override flags (RFC 5798 §6.4.2).
func (m *NetAddresses) Announce(addrs []netip.Addr) error {
	var errs []error
	for _, a := range addrs {
		a = a.Unmap()
		var err error
		switch {
		case a.Is4() && m.arp != nil:
			var p *arp.Packet
			if p, err = arp.NewPacket(arp.OperationRequest, m.ifi.HardwareAddr, a, ethernet.Broadcast, a); err == nil {
				err = m.arp.WriteTo(p, ethernet.Broadcast)
			}
		case a.Is6() && m.ndp != nil:
			na := &ndp.NeighborAdvertisement{Router: true, Override: true, TargetAddress: a,
				Options: []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: m.ifi.HardwareAddr}}}
			err = m.ndp.WriteTo(na, nil, netip.IPv6LinkLocalAllNodes())
		default:
			err = errors.New("not of the family of the interface's announcer")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("vrrp: announce %v on %s: %w", a, m.ifi.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes the sockets.
func (m *NetAddresses) Close() error {
	var errs []error
	if m.arp != nil {
		errs = append(errs, m.arp.Close())
	}
	if m.ndp != nil {
		errs = append(errs, m.ndp.Close())
	}
	m.h.Close()
	return errors.Join(errs...)
}
