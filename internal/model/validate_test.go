package model

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

func key(s string) ServiceKey {
	k, err := ParseServiceKey(s)
	if err != nil {
		panic(err)
	}
	return k
}

func rs(addr string, w int, f ForwardMethod) Dest {
	ap := netip.MustParseAddrPort(addr)
	return Dest{DestKey: DestKey{Addr: ap.Addr(), Port: ap.Port()}, Weight: w, Forward: f}
}

func TestValidateAcceptsGoodState(t *testing.T) {
	gue := rs("198.18.2.1:80", 1, Tunnel)
	gue.TunnelType, gue.TunnelPort = TunnelGUE, 6080
	st := &State{Services: []VirtualServer{
		{Service: Service{ServiceKey: key("198.18.0.10:80"), Scheduler: "wrr"},
			Dests: []Dest{rs("198.18.1.1:80", 3, Masquerade), rs("198.18.1.2:80", 0, DirectRoute), gue}},
		{Service: Service{ServiceKey: key("udp:[2001:db8::1]:53"), Scheduler: "sh", SchedFlags: SchedFlag1, OnePacket: true}},
		{Service: Service{ServiceKey: key("fwmark6:3"), Scheduler: "mh", Persistent: true, Timeout: 300, NetmaskBits: 64},
			Dests: []Dest{rs("[2001:db8:1::1]:0", 1, DirectRoute), rs("198.18.3.1:0", 1, Tunnel)}},
		{Service: Service{ServiceKey: key("198.18.0.11:0"), Scheduler: "rr", Persistent: true, Timeout: 60}},
	}}
	if ps := Validate(st); len(ps) > 0 {
		t.Fatalf("unexpected problems:\n%v", ps)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	svc := Service{ServiceKey: key("198.18.0.10:80"), Scheduler: "wrong"}
	st := &State{Services: []VirtualServer{
		{Service: svc, Dests: []Dest{
			rs("198.18.1.1:80", 70000, Masquerade),
			rs("198.18.1.1:80", -1, Masquerade),
			rs("[2001:db8::1]:80", 1, Masquerade),
		}},
		{Service: svc},
		{Service: Service{ServiceKey: key("198.18.0.12:0"), Scheduler: "rr"}},
		{Service: Service{ServiceKey: key("198.18.0.13:80"), Scheduler: "rr", Persistent: true, Timeout: 0, NetmaskBits: 40}},
		{Service: Service{ServiceKey: key("198.18.0.14:80"), Scheduler: "rr", OnePacket: true}},
	}}
	want := []string{
		`service TCP 198.18.0.10:80: scheduler: unknown scheduler "wrong" (one of rr, wrr,`,
		"service TCP 198.18.0.10:80, real server 198.18.1.1:80: weight: 70000 out of range 0..65535",
		"service TCP 198.18.0.10:80, real server 198.18.1.1:80: duplicate real server",
		"service TCP 198.18.0.10:80, real server 198.18.1.1:80: weight: -1 out of range 0..65535",
		"service TCP 198.18.0.10:80, real server [2001:db8::1]:80: address: IPv6 real server in IPv4 service: mixed families need tunnel forwarding",
		"service TCP 198.18.0.10:80: duplicate virtual service",
		"service TCP 198.18.0.12:0: port: port 0 (all ports) is only allowed for persistent services",
		"service TCP 198.18.0.13:80: persistence: timeout must be at least 1 second",
		"service TCP 198.18.0.13:80: netmask: prefix length 40 out of range 1..32",
		"service TCP 198.18.0.14:80: one_packet: one-packet scheduling applies to UDP services only",
	}
	got := Validate(st).Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing problem %q in:\n%s", w, got)
		}
	}
}

func TestValidateTunnels(t *testing.T) {
	svc := Service{ServiceKey: key("198.18.0.10:80"), Scheduler: "rr"}
	cases := []struct {
		name string
		mod  func(*Dest)
		want string
	}{
		{"gue without port", func(d *Dest) { d.Forward, d.TunnelType = Tunnel, TunnelGUE }, "gue tunnels need a port"},
		{"ipip with port", func(d *Dest) { d.Forward, d.TunnelPort = Tunnel, 5 }, "ipip tunnels have no port"},
		{"tunnel settings on nat", func(d *Dest) { d.TunnelType = TunnelGRE }, "tunnel settings need tunnel forwarding"},
		{"both checksums", func(d *Dest) {
			d.Forward, d.TunnelType, d.TunnelPort, d.TunnelFlags = Tunnel, TunnelGUE, 1, TunnelCsum|TunnelRemCsum
		}, "choose one of csum or remcsum"},
		{"thresholds", func(d *Dest) { d.UpperThreshold, d.LowerThreshold = 5, 10 }, "lower threshold 10 is above upper threshold 5"},
		{"lower threshold alone", func(d *Dest) { d.LowerThreshold = 10 }, "lower threshold 10 without an upper threshold (the kernel refuses it)"},
	}
	for _, c := range cases {
		d := rs("198.18.1.1:80", 1, Masquerade)
		c.mod(&d)
		if got := ValidateDest(&svc, &d).Error(); !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseServiceKey(t *testing.T) {
	good := map[string]string{
		"198.18.0.10:80":        "TCP 198.18.0.10:80",
		"udp:198.18.0.10:53":    "UDP 198.18.0.10:53",
		"sctp:[2001:db8::1]:80": "SCTP [2001:db8::1]:80",
		"fwmark:7":              "FWM 7",
		"fwmark6:7":             "FWM 7 IPv6",
		"fwmark:0x1f":           "FWM 31",
		"fwmark:0XFFFFFFFF":     "FWM 4294967295",
		"fwmark:10":             "FWM 10",
		"[::ffff:198.18.0.1]:1": "TCP 198.18.0.1:1",
	}
	for in, want := range good {
		k, err := ParseServiceKey(in)
		if err != nil || k.String() != want {
			t.Errorf("ParseServiceKey(%q) = %v, %v; want %s", in, k, err, want)
		}
	}
	for _, bad := range []string{"", "198.18.0.10", "fwmark:0", "fwmark:x",
		"fwmark:010", "fwmark:1_000", "fwmark:0b101", "fwmark:0o17", "fwmark:0x", "fwmark:+5", "fwmark:0x_1",
		"fwmark:4294967296", "fwmark: 5", "tcp:nohost:80", "198.18.0.300:80"} {
		if _, err := ParseServiceKey(bad); err == nil {
			t.Errorf("ParseServiceKey(%q) accepted", bad)
		}
	}
}

func TestPortSuffix(t *testing.T) {
	for in, want := range map[string]string{
		"2001:db8:12::2:8080": "[2001:db8:12::2]:8080",
		"2001:db8::10:80":     "[2001:db8::10]:80",
		"2001:db8::10":        "",
		"2001:db8::10:abc":    "",
		"[2001:db8::10]:80":   "",
		"198.18.0.1:80":       "",
		"2001:db8::10:0":      "",
		"2001:db8::10:65536":  "",
	} {
		ap, ok := PortSuffix(in)
		if got := ap.String(); !ok && want != "" || ok && got != want {
			t.Errorf("PortSuffix(%q) = %s, %v; want %q", in, got, ok, want)
		}
	}
	_, err := ParseServiceKey("2001:db8::10:80")
	if want := "missing port (write [2001:db8::10]:80 for port 80, or [2001:db8::10:80]:PORT)"; err == nil || err.Error() != want {
		t.Errorf("2001:db8::10:80: %v; want %s", err, want)
	}
}

func TestFlagsRoundTrip(t *testing.T) {
	s := Service{Persistent: true, OnePacket: true, SchedFlags: SchedFlag1 | SchedFlag3}
	var back Service
	back.SetFlags(s.Flags() | FlagHashed)
	if back.Persistent != true || back.OnePacket != true || back.SchedFlags != SchedFlag1|SchedFlag3 {
		t.Errorf("flags round trip: %+v", back)
	}
	if got := SchedFlagNames("sh", SchedFlag1|SchedFlag2); got != "sh-fallback,sh-port" {
		t.Errorf("SchedFlagNames = %q", got)
	}
	if b, err := ParseSchedFlag("mh", "port"); err != nil || b != SchedFlag2 {
		t.Errorf("ParseSchedFlag(mh, port) = %v, %v", b, err)
	}
	if _, err := ParseSchedFlag("rr", "sh-port"); err == nil {
		t.Error("sh-port accepted for rr")
	}
}

func TestParseAddrPortPortRange(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"198.18.0.1:99999", "port 99999 out of range 0..65535"},
		{"[2001:db8::1]:65536", "port 65536 out of range 0..65535"},
		{"198.18.0.1:123456789012345678901234567890", "port 123456789012345678901234567890 out of range 0..65535"},
		{"198.18.0.1:http", `invalid port "http"`},
		{"198.18.0.1:-1", `invalid port "-1"`},
	} {
		if _, err := ParseAddrPort(c.in, 0); err == nil || err.Error() != c.want {
			t.Errorf("ParseAddrPort(%q): %v, want %s", c.in, err, c.want)
		}
	}
	if ap, err := ParseAddrPort("198.18.0.1:65535", -1); err != nil || ap.Port() != 65535 {
		t.Errorf("ParseAddrPort(198.18.0.1:65535): %v %v", ap, err)
	}
}

func TestFastIPv4PortAgrees(t *testing.T) {
	for _, s := range []string{"1.2.3.4:80", "0.0.0.0:0", "255.255.255.255:65535", "198.19.3.250:08080",
		"1.2.3.4:65536", "01.2.3.4:80", "1.2.3:80", "1.2.3.4", "1.2.3.4:", "256.1.1.1:1", "1.2.3.4:123456", "1.2.3.4:8a", "1.2.3.4.5:6"} {
		fast, ok := fastIPv4Port(s)
		if !ok {
			continue
		}
		host, port, _ := strings.Cut(s, ":")
		a, err := netip.ParseAddr(host)
		p, perr := strconv.ParseUint(port, 10, 16)
		if err != nil || perr != nil || fast != netip.AddrPortFrom(a, uint16(p)) {
			t.Errorf("%q: fast path gives %v, general %v:%v (%v, %v)", s, fast, a, p, err, perr)
		}
	}
}
