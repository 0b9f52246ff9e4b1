package ipvs

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/model"
)

// The kernel answers a dump with the same attribute layout it accepts, so an
// encoded request must decode back to the same object.
func TestServiceAttributesRoundTrip(t *testing.T) {
	for _, s := range []model.Service{
		{ServiceKey: model.ServiceKey{Family: model.IPv4, Protocol: model.TCP, Addr: netip.MustParseAddr("198.18.0.10"), Port: 80},
			Scheduler: "wrr", Persistent: true, Timeout: 300, NetmaskBits: 24},
		{ServiceKey: model.ServiceKey{Family: model.IPv6, Protocol: model.UDP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 53},
			Scheduler: "sh", SchedFlags: model.SchedFlag1 | model.SchedFlag2, OnePacket: true},
		{ServiceKey: model.ServiceKey{Family: model.IPv6, FWMark: 9}, Scheduler: "mh", Persistent: true, Timeout: 5, NetmaskBits: 48, PEName: "sip"},
	} {
		_, attrs, err := encodeOp(&model.Op{Kind: model.AddService, Service: &s})
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeService(attrs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Service, s) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got.Service, s)
		}
	}
}

func TestDestAttributesRoundTrip(t *testing.T) {
	svc := model.Service{ServiceKey: model.ServiceKey{Family: model.IPv4, Protocol: model.TCP, Addr: netip.MustParseAddr("198.18.0.10"), Port: 80}}
	for _, d := range []model.Dest{
		{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.18.1.1"), Port: 8080}, Weight: 65535, Forward: model.Masquerade,
			UpperThreshold: 100, LowerThreshold: 10},
		{DestKey: model.DestKey{Addr: netip.MustParseAddr("2001:db8::2"), Port: 80}, Weight: 0, Forward: model.Tunnel,
			TunnelType: model.TunnelGUE, TunnelPort: 6080, TunnelFlags: model.TunnelRemCsum},
	} {
		cmd, attrs, err := encodeOp(&model.Op{Kind: model.AddDest, Service: &svc, Dest: &d})
		if err != nil || cmd != cmdNewDest {
			t.Fatal(cmd, err)
		}
		got, err := decodeDest(attrs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Dest, d) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got.Dest, d)
		}
	}
}

func TestNetmaskEncoding(t *testing.T) {
	if b := netmaskBytes(model.IPv4, 24); !reflect.DeepEqual(b, []byte{255, 255, 255, 0}) {
		t.Errorf("IPv4 /24 = %v", b)
	}
	if n := netmaskOnes(model.IPv6, netmaskBytes(model.IPv6, 64)); n != 64 {
		t.Errorf("IPv6 /64 = %d", n)
	}
}

// The input is built with mdlayher/netlink, an independent encoder.
func TestStatsDecoding(t *testing.T) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(cmdAttrDest, func(nae *netlink.AttributeEncoder) error {
		nae.Uint16(destAttrAddrFamily, uint16(model.IPv4))
		nae.Bytes(destAttrAddr, addr16(netip.MustParseAddr("198.18.1.1")))
		nae.Bytes(destAttrPort, []byte{0, 80}) // big-endian port
		nae.Uint32(destAttrActiveConns, 7)
		// Old 32-bit stats first, then 64-bit: the 64-bit ones win.
		nae.Nested(destAttrStats, func(s *netlink.AttributeEncoder) error {
			s.Uint32(statsConns, 1)
			s.Uint64(statsInBytes, 2)
			return nil
		})
		nae.Nested(destAttrStats64, func(s *netlink.AttributeEncoder) error {
			s.Uint64(statsConns, 1<<40)
			s.Uint64(statsInBytes, 1<<41)
			s.Uint64(statsOutBPS, 5)
			return nil
		})
		return nil
	})
	b, _ := ae.Encode()
	d, err := decodeDest(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Stats.Conns != 1<<40 || d.Stats.InBytes != 1<<41 || d.Stats.OutBPS != 5 || d.ActiveConns != 7 {
		t.Errorf("stats = %+v, active %d", d.Stats, d.ActiveConns)
	}
}

func TestNetlinkErrorParsing(t *testing.T) {
	// An NLMSG_ERROR for seq 42 with EEXIST, capped, with an extended-ack message.
	var b []byte
	ae := netlink.NewAttributeEncoder()
	ae.String(nlmsgerrMsg, "Scheduler not found")
	tlv, _ := ae.Encode()
	code := -int32(unix.EEXIST)
	payload := binary.NativeEndian.AppendUint32(nil, uint32(code))
	orig := make([]byte, 16)
	binary.NativeEndian.PutUint32(orig[8:], 42)
	payload = append(append(payload, orig...), tlv...)
	b = binary.NativeEndian.AppendUint32(b, uint32(16+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, unix.NLMSG_ERROR)
	b = binary.NativeEndian.AppendUint16(b, unix.NLM_F_CAPPED|unix.NLM_F_ACK_TLVS)
	b = binary.NativeEndian.AppendUint32(b, 42)
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = append(b, payload...)
	msgs, err := parseMessages(b)
	if err != nil || len(msgs) != 1 {
		t.Fatal(msgs, err)
	}
	errno, seq, text := nlError(msgs[0])
	if errno != unix.EEXIST || seq != 42 || text != "Scheduler not found" {
		t.Errorf("got %v %d %q", errno, seq, text)
	}
	ke := &kernelError{Errno: errno}
	err = describe(model.AddService, ke)
	if err.Error() != "service already exists (EEXIST)" || !errors.Is(err, unix.EEXIST) {
		t.Errorf("describe = %v", err)
	}
}

// On a host without IPVS (like CI's), Open must say so plainly.
func TestOpenWithoutIPVS(t *testing.T) {
	c, err := Open()
	if err == nil {
		c.Close()
		t.Skip("this kernel has IPVS")
	}
	if !errors.Is(err, ErrNotAvailable) {
		t.Errorf("Open() = %v, want ErrNotAvailable", err)
	}
}

// Our encoder's output must parse with mdlayher/netlink's decoder too.
func TestEncoderAgreesWithMdlayher(t *testing.T) {
	s := model.Service{ServiceKey: model.ServiceKey{Family: model.IPv4, Protocol: model.TCP, Addr: netip.MustParseAddr("198.18.0.10"), Port: 80}, Scheduler: "wrr"}
	_, b, err := encodeOp(&model.Op{Kind: model.AddService, Service: &s})
	if err != nil {
		t.Fatal(err)
	}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		t.Fatal(err)
	}
	var sched string
	var port uint16
	for ad.Next() {
		ad.Nested(func(nad *netlink.AttributeDecoder) error {
			for nad.Next() {
				switch nad.Type() {
				case svcAttrSchedName:
					sched = nad.String()
				case svcAttrPort:
					port = binary.BigEndian.Uint16(nad.Bytes())
				}
			}
			return nil
		})
	}
	if err := ad.Err(); err != nil || sched != "wrr" || port != 80 {
		t.Errorf("mdlayher decoded sched %q port %d err %v", sched, port, err)
	}
}
