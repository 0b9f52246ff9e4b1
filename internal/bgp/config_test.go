package bgp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{
		ASN:        65001,
		RouterID:   netip.MustParseAddr("198.18.0.1"),
		ListenPort: -1,
		Peers: []Peer{
			{Address: netip.MustParseAddr("198.18.0.2"), ASN: 65000},
			{Address: netip.MustParseAddr("2001:db8::2"), ASN: 65000, LocalAddress: netip.MustParseAddr("2001:db8::1")},
		},
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(validConfig(), nil); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	addr := netip.MustParseAddr
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // in the error
	}{
		{"asn 0", func(c *Config) { c.ASN = 0 }, "ASN 0"},
		{"no router id", func(c *Config) { c.RouterID = netip.Addr{} }, "no router id"},
		{"router id ipv6", func(c *Config) { c.RouterID = addr("2001:db8::1") }, "router id 2001:db8::1: must be a non-zero IPv4"},
		{"router id 0", func(c *Config) { c.RouterID = addr("0.0.0.0") }, "router id 0.0.0.0"},
		{"listen port -2", func(c *Config) { c.ListenPort = -2 }, "listen port -2"},
		{"listen port 65536", func(c *Config) { c.ListenPort = 65536 }, "listen port 65536"},
		{"peer without address", func(c *Config) { c.Peers[0].Address = netip.Addr{} }, "peer without an address"},
		{"peer asn 0", func(c *Config) { c.Peers[1].ASN = 0 }, "peer 2001:db8::2: ASN 0"},
		{"duplicate peer", func(c *Config) { c.Peers[1] = c.Peers[0] }, "peer 198.18.0.2: configured twice"},
		{"duplicate peer 4in6", func(c *Config) {
			c.Peers[1].Address = addr("::ffff:198.18.0.2")
			c.Peers[1].LocalAddress = netip.Addr{}
		}, "peer 198.18.0.2: configured twice"},
		{"peer unspecified", func(c *Config) { c.Peers[0].Address = addr("0.0.0.0") }, "peer 0.0.0.0: not a unicast"},
		{"peer multicast", func(c *Config) { c.Peers[1].Address = addr("ff02::1") }, "peer ff02::1: not a unicast"},
		{"peer zoned", func(c *Config) { c.Peers[1].Address = addr("fe80::1%lo") }, "zoned addresses"},
		{"local address family", func(c *Config) { c.Peers[0].LocalAddress = addr("2001:db8::1") }, "local address 2001:db8::1: must be a unicast address of the same family"},
		{"password too long", func(c *Config) { c.Peers[0].Password = strings.Repeat("x", 81) }, "password longer than 80"},
		{"hold time 2s", func(c *Config) { c.Peers[0].HoldTime = 2 * time.Second }, "hold time 2s: must be 0 (default) or 3s"},
		{"hold time fraction", func(c *Config) { c.Peers[0].HoldTime = 3500 * time.Millisecond }, "hold time 3.5s: must be whole seconds"},
		{"connect retry fraction", func(c *Config) { c.Peers[0].ConnectRetry = time.Millisecond }, "connect retry 1ms: must be whole seconds"},
		{"multihop ibgp", func(c *Config) { c.Peers[0].ASN = 65001; c.Peers[0].MultihopTTL = 5 }, "multihop TTL is for eBGP"},
		{"multihop 1", func(c *Config) { c.Peers[0].MultihopTTL = 1 }, "multihop TTL 1"},
		{"bfd off with intervals", func(c *Config) { c.Peers[0].BFD.MinTx = time.Second }, "BFD intervals or multiplier set but BFD not enabled"},
		{"bfd interval", func(c *Config) { c.Peers[0].BFD = BFD{Enabled: true, MinRx: time.Microsecond} }, "BFD receive interval 1µs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.change(&cfg)
			s, err := New(cfg, nil)
			if err == nil {
				t.Fatalf("New accepted %+v", cfg)
			}
			if s != nil {
				t.Errorf("New returned a speaker with its error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestNewNormalizes(t *testing.T) {
	cfg := validConfig()
	cfg.RouterID = netip.MustParseAddr("::ffff:198.18.0.1")
	cfg.Peers[0].Address = netip.MustParseAddr("::ffff:198.18.0.2")
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.RouterID.String() != "198.18.0.1" || s.cfg.Peers[0].Address.String() != "198.18.0.2" {
		t.Errorf("IPv4-mapped addresses kept: router id %s, peer %s", s.cfg.RouterID, s.cfg.Peers[0].Address)
	}
	if cfg.Peers[0].Address.String() != "::ffff:198.18.0.2" {
		t.Errorf("New changed the caller's config: %s", cfg.Peers[0].Address)
	}
}

// An invalid Update changes nothing.
func TestUpdateValidates(t *testing.T) {
	s, err := New(validConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := validConfig()
	bad.Peers = append(bad.Peers, bad.Peers[0])
	if err := s.Update(bad); err == nil || !strings.Contains(err.Error(), "configured twice") {
		t.Errorf("Update with a duplicate peer: %v", err)
	}
	if got := len(s.Peers()); got != 2 {
		t.Errorf("after a refused update, %d peers, want 2", got)
	}
}

func TestAnnounceValidates(t *testing.T) {
	s, err := New(validConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p4 := netip.MustParsePrefix("198.18.0.10/32")
	for _, tc := range []struct {
		p    string
		a    Attrs
		want string
	}{
		{"198.18.0.10/24", Attrs{}, "announce 198.18.0.10/24: host bits set (the prefix is 198.18.0.0/24)"},
		{"::ffff:198.18.0.10/128", Attrs{}, "IPv4-mapped IPv6 prefixes are not supported"},
		{"198.18.0.10/32", Attrs{NextHop: netip.MustParseAddr("2001:db8::1")}, "next hop 2001:db8::1: must be a unicast address of the prefix's family"},
		{"2001:db8::10/128", Attrs{NextHop: netip.MustParseAddr("198.18.0.1")}, "next hop 198.18.0.1"},
		{"198.18.0.10/32", Attrs{Communities: []string{"65000:100", "65536:1"}}, `community "65536:1"`},
		{"198.18.0.10/32", Attrs{Communities: []string{"no-such"}}, `community "no-such"`},
	} {
		err := s.Announce(netip.MustParsePrefix(tc.p), tc.a)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Announce(%s, %+v) = %v, want an error with %q", tc.p, tc.a, err, tc.want)
		}
	}
	if err := s.Announce(netip.Prefix{}, Attrs{}); err == nil {
		t.Errorf("Announce of the zero prefix accepted")
	}
	if got := s.Announced(); len(got) != 0 {
		t.Errorf("refused announcements recorded: %v", got)
	}
	med := uint32(10)
	if err := s.Announce(p4, Attrs{Communities: []string{"65000:100", "no-export"}, MED: &med}); err != nil {
		t.Errorf("valid announcement refused: %v", err)
	}
}

// Before Start, announcements are recorded (and sorted); Peers are idle.
func TestBeforeStart(t *testing.T) {
	s, err := New(validConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"2001:db8::10/128", "198.18.0.11/32", "198.18.0.10/32", "198.18.0.0/24"} {
		if err := s.Announce(netip.MustParsePrefix(p), Attrs{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Withdraw(netip.MustParsePrefix("198.18.0.11/32")); err != nil {
		t.Fatal(err)
	}
	if err := s.Withdraw(netip.MustParsePrefix("198.18.0.12/32")); err != nil {
		t.Errorf("withdrawing what is not announced: %v", err)
	}
	if got, want := join(s.Announced()), "198.18.0.0/24 198.18.0.10/32 2001:db8::10/128"; got != want {
		t.Errorf("Announced() = %s, want %s", got, want)
	}
	ps := s.Peers()
	if len(ps) != 2 || ps[0].Address.String() != "198.18.0.2" || ps[1].Address.String() != "2001:db8::2" {
		t.Fatalf("Peers() = %+v", ps)
	}
	for _, p := range ps {
		if p.State != "idle" || p.Established() || p.ASN != 65000 {
			t.Errorf("peer before Start: %+v", p)
		}
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
	if err := s.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("Start after Stop: %v", err)
	}
	if err := s.Announce(netip.MustParsePrefix("198.18.0.10/32"), Attrs{}); err == nil {
		t.Errorf("Announce after Stop accepted")
	}
	if got := s.Announced(); len(got) != 0 {
		t.Errorf("after Stop, Announced() = %v", got)
	}
}

func TestParseCommunity(t *testing.T) {
	for s, want := range map[string]uint32{
		"65000:100":    65000<<16 | 100,
		"0:0":          0,
		"65535:65535":  0xffffffff,
		"no-export":    0xffffff01,
		"NO-ADVERTISE": 0xffffff02,
		"blackhole":    0xffff029a,
	} {
		got, err := parseCommunity(s)
		if err != nil || got != want {
			t.Errorf("parseCommunity(%q) = %#x, %v; want %#x", s, got, err, want)
		}
	}
	for _, s := range []string{"", "65000", "65000:", ":1", "1:2:3", "-1:2", "a:b", "65000:65536"} {
		if _, err := parseCommunity(s); err == nil {
			t.Errorf("parseCommunity(%q) accepted", s)
		}
	}
}

func join(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}
