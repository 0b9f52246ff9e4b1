package vrrp

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var (
	src4 = netip.MustParseAddr("198.18.0.1")
	src6 = netip.MustParseAddr("fe80::1")
)

// knownIPv4 is an advertisement from 198.18.0.1 to 224.0.0.18: VRID 51,
// priority 100, one address (198.18.0.10), interval 1 s (100 cs). Its
// checksum, by hand: pseudo-header c612+0001 (src) + e000+0012 (dst) +
// 0070 (zero, protocol 112) + 000c (length 12) = 1a6a1; message 3133 +
// 6401 + 0064 + 0000 (checksum) + c612+000a (address) brings it to 30255;
// folded 0255+3 = 0258; complemented fda7.
var knownIPv4 = []byte{
	0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0xfd, 0xa7,
	198, 18, 0, 10,
}

// knownIPv6 is an advertisement from fe80::1 to ff02::12: VRID 1,
// priority 255, two addresses, interval 1 s; its checksum (a50e) was
// computed independently of Checksum, with the RFC 2460 pseudo-header.
var knownIPv6 = []byte{
	0x31, 0x01, 0xff, 0x02, 0x00, 0x64, 0xa5, 0x0e,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
}

func TestKnownPackets(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst netip.Addr
		wire     []byte
		adv      Advertisement
	}{
		{"IPv4", src4, GroupIPv4, knownIPv4, Advertisement{VRID: 51, Priority: 100, Interval: time.Second,
			Addresses: []netip.Addr{netip.MustParseAddr("198.18.0.10")}}},
		{"IPv6", src6, GroupIPv6, knownIPv6, Advertisement{VRID: 1, Priority: 255, Interval: time.Second,
			Addresses: []netip.Addr{netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("fe80::10")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.adv.Marshal(tc.src, tc.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tc.wire) {
				t.Errorf("Marshal = % x, want % x", b, tc.wire)
			}
			var got Advertisement
			if err := got.Unmarshal(tc.src, tc.dst, tc.wire); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.adv) {
				t.Errorf("Unmarshal = %+v, want %+v", got, tc.adv)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	peer4 := netip.MustParseAddr("198.18.0.2")
	for _, adv := range []Advertisement{
		{VRID: 1, Priority: 1, Interval: 10 * time.Millisecond},
		{VRID: 255, Priority: 254, Interval: MaxAdvertInterval, Addresses: []netip.Addr{
			netip.MustParseAddr("198.18.0.10"), netip.MustParseAddr("198.18.0.11"), netip.MustParseAddr("198.19.255.255")}},
		{VRID: 7, Priority: 0, Interval: 3 * time.Second, Addresses: []netip.Addr{netip.MustParseAddr("198.18.1.1")}},
	} {
		for _, dst := range []netip.Addr{GroupIPv4, peer4} {
			b, err := adv.Marshal(src4, dst)
			if err != nil {
				t.Fatal(err)
			}
			var got Advertisement
			if err := got.Unmarshal(src4, dst, b); err != nil {
				t.Fatalf("%+v to %v: %v", adv, dst, err)
			}
			if adv.Addresses == nil {
				adv.Addresses = []netip.Addr{}
			}
			if !reflect.DeepEqual(got, adv) {
				t.Errorf("round trip of %+v to %v = %+v", adv, dst, got)
			}
			// The checksum covers the destination: keepalived's old
			// unicast checksum (the group's) does not pass for a peer.
			if dst != GroupIPv4 {
				if err := got.Unmarshal(src4, GroupIPv4, b); !errors.Is(err, ErrChecksum) {
					t.Errorf("unicast packet checked against the group: %v, want ErrChecksum", err)
				}
			}
		}
	}
	adv := Advertisement{VRID: 9, Priority: 200, Interval: 250 * time.Millisecond,
		Addresses: []netip.Addr{netip.MustParseAddr("fe80::9"), netip.MustParseAddr("2001:db8:1::9")}}
	b, err := adv.Marshal(src6, GroupIPv6)
	if err != nil {
		t.Fatal(err)
	}
	var got Advertisement
	if err := got.Unmarshal(src6, GroupIPv6, b); err != nil || !reflect.DeepEqual(got, adv) {
		t.Errorf("IPv6 round trip = %+v, %v", got, err)
	}
}

func TestMarshalErrors(t *testing.T) {
	v4 := netip.MustParseAddr("198.18.0.10")
	v6 := netip.MustParseAddr("2001:db8::10")
	for _, tc := range []struct {
		name     string
		adv      Advertisement
		src, dst netip.Addr
	}{
		{"mixed families", Advertisement{Interval: time.Second, Addresses: []netip.Addr{v6}}, src4, GroupIPv4},
		{"src and dst families", Advertisement{Interval: time.Second}, src4, GroupIPv6},
		{"no src", Advertisement{Interval: time.Second}, netip.Addr{}, GroupIPv4},
		{"interval too long", Advertisement{Interval: MaxAdvertInterval + centisecond}, src4, GroupIPv4},
		{"negative interval", Advertisement{Interval: -time.Second}, src4, GroupIPv4},
		{"too many addresses", Advertisement{Interval: time.Second, Addresses: make([]netip.Addr, 256)}, src4, GroupIPv4},
	} {
		if tc.name == "too many addresses" {
			for i := range tc.adv.Addresses {
				tc.adv.Addresses[i] = v4
			}
		}
		if b, err := tc.adv.Marshal(tc.src, tc.dst); err == nil {
			t.Errorf("%s: Marshal = % x, want an error", tc.name, b)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), knownIPv4...))
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short header", knownIPv4[:7], ErrTruncated},
		{"missing address", knownIPv4[:10], ErrLength},
		{"extra bytes", append(append([]byte(nil), knownIPv4...), 0, 0, 0, 0), ErrLength},
		{"version 2", mod(func(b []byte) []byte { b[0] = 0x21; return b }), ErrVersion},
		{"type 2", mod(func(b []byte) []byte { b[0] = 0x32; return b }), ErrType},
		{"count 2", mod(func(b []byte) []byte { b[3] = 2; return b }), ErrLength},
		{"checksum", mod(func(b []byte) []byte { b[7]++; return b }), ErrChecksum},
		{"priority changed", mod(func(b []byte) []byte { b[2]++; return b }), ErrChecksum},
	} {
		var a Advertisement
		if err := a.Unmarshal(src4, GroupIPv4, tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: Unmarshal = %v, want %v", tc.name, err, tc.want)
		}
	}
	var a Advertisement
	if err := a.Unmarshal(src4, GroupIPv6, knownIPv4); !errors.Is(err, ErrFamily) {
		t.Errorf("mixed families: %v", err)
	}
	// An IPv4 packet read as IPv6 is short of its address.
	if err := a.Unmarshal(src6, GroupIPv6, knownIPv4); !errors.Is(err, ErrLength) {
		t.Errorf("IPv4 packet as IPv6: %v", err)
	}
}

// FuzzUnmarshal checks that no input makes Unmarshal panic, and that what
// it accepts marshals back to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	f.Add(knownIPv4, false)
	f.Add(knownIPv6, true)
	f.Add([]byte{0x31, 0, 0, 0xff, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		src, dst := src4, GroupIPv4
		if v6 {
			src, dst = src6, GroupIPv6
		}
		var a Advertisement
		if err := a.Unmarshal(src, dst, b); err != nil {
			return
		}
		// The reserved bits are not kept.
		want := append([]byte(nil), b...)
		want[4] &= 0x0f
		want[6], want[7] = 0, 0
		c := Checksum(src, dst, want)
		want[6], want[7] = byte(c>>8), byte(c)
		got, err := a.Marshal(src, dst)
		if err != nil {
			t.Fatalf("Marshal of accepted %+v: %v", a, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Marshal = % x, want % x", got, want)
		}
	})
}
