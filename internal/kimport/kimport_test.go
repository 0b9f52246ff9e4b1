package kimport

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/keepalived"
	"github.com/luvs-lb/luvs/internal/luaconf"
	"github.com/luvs-lb/luvs/internal/model"
)

func importFile(t *testing.T, name string) (*Result, error) {
	t.Helper()
	cfg, err := keepalived.ParseFile(name, keepalived.Options{})
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return Import(cfg)
}

// load runs the imported Lua through the luvs loader.
func load(t *testing.T, lua string) *model.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "imported.lua")
	if err := os.WriteFile(path, []byte(lua), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := luaconf.Load(path, luaconf.Options{})
	if err != nil {
		t.Fatalf("the imported configuration does not load: %v\n%s", err, lua)
	}
	t.Cleanup(res.Close)
	return res.Config
}

// refused are the good keepalived fixtures luvs cannot express, with the
// errors they give.
var refused = map[string][]string{
	"checkers.conf": {
		"checkers.conf:13: SSL certificate/key is not supported by luvs yet",
		"checkers.conf:43: regex_no_match is not supported by luvs yet",
		"checkers.conf:46: regex_min_offset/regex_max_offset is not supported by luvs yet",
		"checkers.conf:57: require_reply with X nibbles is not supported by luvs yet",
		"checkers.conf:58: min_reply_length/max_reply_length is not supported by luvs yet",
		"checkers.conf:69: FILE_CHECK with weight -2 reverse is not supported by luvs yet",
		"checkers.conf:74: BFD_CHECK is not supported by luvs yet",
	},
	"groups_fwmark.conf": {
		"groups_fwmark.conf:40: bind_if is not supported by luvs yet",
		"groups_fwmark.conf:41: bind_port is not supported by luvs yet",
		"groups_fwmark.conf:42: TCP_CHECK fwmark is not supported by luvs yet",
	},
	"mixed_lvs_vrrp.conf": {
		"mixed_lvs_vrrp.conf:75: quorum_down with a user is not supported by luvs yet",
		"mixed_lvs_vrrp.conf:80: omega is not supported by luvs yet",
	},
}

// TestFixtures imports every good keepalived fixture: it loads in luvs, or
// is refused with file:line errors and no output.
func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob("../keepalived/testdata/good/*.conf")
	own, _ := filepath.Glob("testdata/*.conf")
	for _, f := range append(files, own...) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res, err := importFile(t, f)
			want, bad := refused[filepath.Base(f)]
			if f == "testdata/unsupported.conf" {
				bad, want = true, []string{"unsupported.conf:3: omega", "unsupported.conf:6: BFD_CHECK", "unsupported.conf:8: bind_port"}
			}
			if bad {
				if err == nil || res != nil {
					t.Fatalf("imported, want errors %q", want)
				}
				es := keepalived.AsErrors(err)
				if len(es) != len(want) {
					t.Errorf("got %d errors, want %d:\n%v", len(es), len(want), err)
				}
				for i, w := range want {
					if i < len(es) && !strings.Contains(es[i].Error(), w) {
						t.Errorf("error %d = %q, want %q", i, es[i], w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			load(t, res.Lua)
		})
	}
}

func findService(t *testing.T, cfg *model.Config, key string) *model.ServiceConfig {
	t.Helper()
	for i := range cfg.Services {
		if cfg.Services[i].ServiceKey.String() == key {
			return &cfg.Services[i]
		}
	}
	t.Fatalf("no service %s", key)
	return nil
}

func findServer(t *testing.T, s *model.ServiceConfig, addr string) *model.ServerConfig {
	t.Helper()
	for i := range s.Servers {
		if s.Servers[i].DestKey.String() == addr {
			return &s.Servers[i]
		}
	}
	t.Fatalf("%s: no real server %s", s.ServiceKey, addr)
	return nil
}

type timing struct {
	interval, timeout, retry time.Duration
	rise, fall               int
}

func wantTiming(t *testing.T, where string, c model.Check, w timing) {
	t.Helper()
	got := timing{c.Interval, c.Timeout, c.RetryDelay, c.Rise, c.Fall}
	if got != w {
		t.Errorf("%s %s check timing = %+v, want %+v", where, c.Kind, got, w)
	}
}

// TestDirector checks, on the loaded luvs table, what the keepalived
// configuration means.
func TestDirector(t *testing.T) {
	res, err := importFile(t, "testdata/director.conf")
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, res.Lua)
	st := cfg.State()
	// 192.0.2.10:80, the DNS service, the group (10 + 1 + 16 + 1 fwmark) and syslog.
	if n := len(st.Services); n != 1+1+28+1 {
		t.Errorf("%d services, want 31", n)
	}

	web := findService(t, cfg, "TCP 192.0.2.10:80")
	if web.Scheduler != "wlc" || !web.Persistent || web.Timeout != 300 || web.NetmaskBits != 24 {
		t.Errorf("web service = %+v", web.Service)
	}
	if web.Quorum != 2 || web.Hysteresis != 1 || !slices.Equal(web.QuorumUp.Argv, []string{"/etc/keepalived/quorum.sh", "up", "web farm"}) {
		t.Errorf("web quorum %d/%d %s", web.Quorum, web.Hysteresis, web.QuorumUp)
	}
	if web.Sorry == nil || web.Sorry.DestKey.String() != "192.0.2.99:8080" || web.Sorry.Forward != model.Masquerade {
		t.Errorf("web sorry = %+v", web.Sorry)
	}
	web1 := findServer(t, web, "198.18.1.1:80")
	if web1.Weight != 3 || web1.Forward != model.DirectRoute || web1.OnFail != model.Drain ||
		web1.UpperThreshold != 1000 || web1.LowerThreshold != 800 {
		t.Errorf("web1 = %+v", web1)
	}
	if !slices.Equal(web1.NotifyUp.Argv, []string{"/etc/keepalived/rs.sh", "up", "web1"}) || !slices.Equal(web1.NotifyDown.Argv, []string{"/etc/keepalived/rs-down.sh"}) {
		t.Errorf("web1 notify %s %s", web1.NotifyUp, web1.NotifyDown)
	}
	if len(web1.Checks) != 2 || web1.Checks[0].Kind != model.CheckHTTP || web1.Checks[1].Kind != model.CheckHTTP {
		t.Fatalf("web1 checks = %+v", web1.Checks)
	}
	// retry 3 → fall 4, delay_before_retry 2, connect_timeout 3, delay_loop 6 from the virtual server.
	for _, c := range web1.Checks {
		wantTiming(t, "web1", c, timing{6 * time.Second, 3 * time.Second, 2 * time.Second, 1, 4})
	}
	if h := web1.Checks[0].HTTP; h.Path != "/healthz" || !slices.Equal(h.Status, []model.StatusRange{{Lo: 200, Hi: 299}, {Lo: 301, Hi: 301}}) {
		t.Errorf("web1 url 1 = %+v", h)
	}
	if h := web1.Checks[1].HTTP; h.Path != "/index.html" || h.Digest != "9b3a0c85a887a256d6939da88aabd8cd" {
		t.Errorf("web1 url 2 = %+v", h)
	}
	web2 := findServer(t, web, "198.18.1.2:80")
	if web2.Weight != 1 || web2.Forward != model.DirectRoute || web2.OnFail != model.Remove {
		t.Errorf("web2 = %+v", web2)
	}
	if len(web2.Checks) != 1 || web2.Checks[0].Kind != model.CheckTCP || web2.Checks[0].Port != 8080 {
		t.Fatalf("web2 checks = %+v", web2.Checks)
	}
	// TCP_CHECK: retry 1 → fall 2, delay_before_retry 1 s.
	wantTiming(t, "web2", web2.Checks[0], timing{6 * time.Second, 2500 * time.Millisecond, time.Second, 1, 2})

	dns := findService(t, cfg, "UDP 192.0.2.53:53")
	if dns.Scheduler != "rr" || !dns.OnePacket {
		t.Errorf("dns service = %+v", dns.Service)
	}
	for _, rs := range dns.Servers {
		if rs.Forward != model.DirectRoute || rs.OnFail != model.Remove || len(rs.Checks) != 1 {
			t.Fatalf("dns server = %+v", rs)
		}
		c := rs.Checks[0]
		if c.Kind != model.CheckDNS || c.DNS.Name != "example.com" || c.DNS.Type != "A" {
			t.Errorf("dns check = %+v %+v", c, c.DNS)
		}
		// DNS_CHECK: retry 3 → fall 4, delay_before_retry = delay_loop (60 s default).
		wantTiming(t, "dns", c, timing{time.Minute, 5 * time.Second, time.Minute, 1, 4})
	}

	for _, key := range []string{"TCP 192.0.2.20:80", "TCP 192.0.2.29:80", "TCP 192.0.2.40:80", "TCP [2001:db8::10]:80", "TCP [2001:db8::1f]:80", "FWM 7"} {
		g := findService(t, cfg, key)
		if g.Scheduler != "sh" || g.SchedFlags != model.SchedFlag2 {
			t.Errorf("%s = %+v", key, g.Service)
		}
		ping := findServer(t, g, "198.18.1.1:80")
		if ping.Weight != 2 || ping.Forward != model.Tunnel || ping.TunnelType != model.TunnelGUE || ping.TunnelPort != 6080 ||
			ping.TunnelFlags != model.TunnelRemCsum || ping.OnFail != model.Drain {
			t.Errorf("%s ping server = %+v", key, ping)
		}
		wantTiming(t, key, ping.Checks[0], timing{5 * time.Second, 5 * time.Second, time.Second, 1, 2})
		misc := findServer(t, g, "198.18.1.2:80")
		c := misc.Checks[0]
		if c.Kind != model.CheckExec || !c.Exec.DynamicWeight || !slices.Equal(c.Exec.Argv, []string{"/usr/local/bin/check_web", "--host", "198.18.1.2"}) {
			t.Errorf("%s misc check = %+v %+v", key, c, c.Exec)
		}
		// MISC_CHECK: retry 0 → fall 1, misc_timeout 4.
		wantTiming(t, key, c, timing{time.Minute, 4 * time.Second, time.Second, 1, 1})
	}
	syslog := findService(t, cfg, "UDP 192.0.2.60:514")
	if c := syslog.Servers[0].Checks[0]; c.Kind != model.CheckUDP || string(c.UDP.Payload) != "\x01\x02" || syslog.Servers[0].OnFail != model.Remove {
		t.Errorf("udp check = %+v", c)
	}

	if cfg.Timeouts == nil || *cfg.Timeouts != (model.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}) {
		t.Errorf("timeouts = %+v", cfg.Timeouts)
	}
	if len(cfg.SyncDaemons) != 1 || cfg.SyncDaemons[0].Interface != "eth1" || cfg.SyncDaemons[0].SyncID != 51 ||
		cfg.SyncDaemons[0].MaxLen != 1472 || cfg.SyncDaemons[0].State != model.SyncMaster {
		t.Errorf("sync daemons = %+v", cfg.SyncDaemons)
	}

	// Readable: the group is a function called in loops, comments kept.
	for _, s := range []string{
		"for i = 20, 29 do group_WEB((\"192.0.2.%d:80\"):format(i)) end",
		"for i = 0x10, 0x1f do group_WEB((\"[2001:db8::%x]:80\"):format(i)) end",
		"-- web1 is the bigger box", "-- three times web2", "-- ten VIPs",
		"-- The web farm: weighted least connection, direct routing.",
	} {
		if !strings.Contains(res.Lua, s) {
			t.Errorf("output lacks %q:\n%s", s, res.Lua)
		}
	}
	var notes []string
	for _, n := range res.Skipped {
		notes = append(notes, n.Error())
	}
	wantNotes := []string{
		"testdata/director.conf:2: global_defs left to keepalived (its keys other than the LVS ones)",
		"testdata/director.conf:8: vrrp_instance VI_WEB left to keepalived (--vrrp translates it into luvs's VRRPv3)",
	}
	if !slices.Equal(notes, wantNotes) {
		t.Errorf("notes = %q, want %q", notes, wantNotes)
	}
}

// TestDefaults: settings shared by every service go to defaults { }, and
// keepalived's defaults are written out.
func TestDefaults(t *testing.T) {
	res, err := importFile(t, "../keepalived/testdata/good/next_line_brace.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"defaults {\n  forward = \"nat\",\n  on_fail = \"remove\",\n  interval = \"1m\",\n  timeout = \"5s\",\n  rise = 1,\n  fall = 2,\n}"} {
		if !strings.Contains(res.Lua, s) {
			t.Errorf("output lacks %q:\n%s", s, res.Lua)
		}
	}
	cfg := load(t, res.Lua)
	s := findService(t, cfg, "TCP 192.0.2.5:80")
	rs := findServer(t, s, "198.18.1.1:80")
	if rs.Weight != 2 || rs.OnFail != model.Remove || len(rs.Checks) != 2 || rs.Checks[1].HTTP.Path != "/c" {
		t.Errorf("rs = %+v", rs)
	}
	// HTTP_GET: delay_before_retry 3 s; TCP_CHECK 1 s.
	wantTiming(t, "http", rs.Checks[0], timing{time.Minute, 5 * time.Second, 3 * time.Second, 1, 2})
	wantTiming(t, "tcp", findServer(t, s, "198.18.1.2:80").Checks[0], timing{time.Minute, 5 * time.Second, time.Second, 1, 2})
	if c := findServer(t, s, "198.18.1.3:80").Checks; len(c) != 0 {
		t.Errorf("server without checkers has checks %+v", c)
	}
}

func TestProtocolRequired(t *testing.T) {
	cfg, err := keepalived.Parse("k.conf", []byte("virtual_server 192.0.2.1 80 {\n  real_server 198.18.0.1 80 {\n  }\n}\n"), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Import(cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "k.conf:1: virtual_server has no protocol") {
		t.Fatalf("err = %v", err)
	}
}

func TestLongRangeWithoutLoop(t *testing.T) {
	src := "virtual_server_group G {\n  192.0.2.250-192.0.3.2 80\n}\nvirtual_server group G {\n  protocol TCP\n  real_server 198.18.0.1 80 {\n  }\n}\n"
	cfg, err := keepalived.Parse("k.conf", []byte(src), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := load(t, res.Lua)
	var got []string
	for _, s := range c.Services {
		got = append(got, s.Addr.String())
	}
	want := []string{"192.0.2.250", "192.0.2.251", "192.0.2.252", "192.0.2.253", "192.0.2.254", "192.0.2.255", "192.0.3.0", "192.0.3.1", "192.0.3.2"}
	if !slices.Equal(got, want) {
		t.Errorf("services %q, want %q", got, want)
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		`/bin/x a  b`:             {"/bin/x", "a", "b"},
		`/bin/x "a b" 'c d'`:      {"/bin/x", "a b", "c d"},
		`/bin/x a\ b "q\"x" 'q\'`: {"/bin/x", "a b", `q"x`, `q\`},
		`/bin/x ""`:               {"/bin/x", ""},
	} {
		got, err := SplitCommand(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := SplitCommand(`/bin/x "a`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestKeepalivedPartKeepsScriptUser(t *testing.T) {
	cfg, err := keepalived.ParseFile("../keepalived/testdata/good/mixed_lvs_vrrp.conf", keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := KeepalivedPart(cfg)
	for _, s := range []string{"global_defs {\n", "    router_id LVS_A\n    script_user keepalived_script\n    enable_script_security\n    vrrp_garp_master_delay 10\n", "vrrp_instance VI_WEB {"} {
		if !strings.Contains(out, s) {
			t.Errorf("keepalived part lacks %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"virtual_server", "lvs_sync_daemon", "lvs_timeouts"} {
		if strings.Contains(out, s) {
			t.Errorf("keepalived part has %q:\n%s", s, out)
		}
	}
	// What it writes parses again.
	if _, err := keepalived.Parse("k.conf", []byte(out), keepalived.Options{}); err != nil {
		t.Errorf("keepalived part does not parse: %v\n%s", err, out)
	}
}

func TestFarmLoop(t *testing.T) {
	res, err := importFile(t, "testdata/farm.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Lua, "for i = 10, 14 do\n  pool1[#pool1 + 1] = real_server((\"198.18.5.%d:80\"):format(i)) {}\nend\n") {
		t.Errorf("no loop:\n%s", res.Lua)
	}
	cfg := load(t, res.Lua)
	var got []string
	for _, d := range cfg.State().Services[0].Dests {
		got = append(got, fmt.Sprintf("%s/%d", d.DestKey, d.Weight))
	}
	want := []string{"198.18.5.1:80/5", "198.18.5.10:80/1", "198.18.5.11:80/1", "198.18.5.12:80/1", "198.18.5.13:80/1", "198.18.5.14:80/1"}
	if !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
	for _, rs := range cfg.Services[0].Servers {
		if len(rs.Checks) != 1 || rs.Checks[0].Kind != model.CheckTCP || rs.Checks[0].Interval != 10*time.Second || rs.OnFail != model.Remove {
			t.Errorf("%s: %+v", rs.DestKey, rs)
		}
	}
}

func TestMisc(t *testing.T) {
	res, err := importFile(t, "testdata/misc.conf")
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, res.Lua)
	s := findService(t, cfg, "TCP 192.0.2.1:443")
	a := findServer(t, s, "198.18.0.1:443")
	if !a.Alpha || len(a.Checks) != 1 || a.Checks[0].Kind != model.CheckHTTPS {
		t.Fatalf("alpha server = %+v", a)
	}
	if h := a.Checks[0].HTTP; h.Host != "www.example.com" || h.SNI != "www.example.com" || h.Body != "(?i)^OK" || h.Verify {
		t.Errorf("https = %+v", h)
	}
	if b := findServer(t, s, "198.18.0.2:443"); b.Alpha || len(b.Checks) != 0 {
		t.Errorf("server without checkers = %+v", b)
	}
	p := findService(t, cfg, "TCP 192.0.2.2:0")
	if !p.Persistent || p.Timeout != keepalived.DefaultPersistenceTimeout {
		t.Errorf("persistent service = %+v", p.Service)
	}
	if c := p.Servers[0].Checks[0]; c.Addr != netip.MustParseAddr("198.18.0.9") || p.Servers[0].Port != 0 {
		t.Errorf("connect_ip check = %+v on %s", c, p.Servers[0].DestKey)
	}
	findServer(t, findService(t, cfg, "TCP [2001:db8::1]:80"), "[2001:db8:1::1]:80")
}

// TestSMTPFileUser maps SMTP_CHECK, FILE_CHECK (weight 0: up/down; dynamic
// weight 1 on a server of weight 0: the weight) and the MISC_CHECK users,
// script_user being the default.
func TestSMTPFileUser(t *testing.T) {
	src := `global_defs {
  script_user nobody
  enable_script_security
}
track_file down { 
  file "/run/luvs-test/down"
  weight 0
}
track_file w {
  file "/run/luvs-test/w"
}
track_file bad {
  file "/run/luvs-test/bad"
  weight 2
}
virtual_server 192.0.2.25 25 {
  protocol TCP
  real_server 198.18.3.1 25 {
    SMTP_CHECK {
      helo_name mx.example.test
      connect_timeout 2
      delay_loop 10
    }
    FILE_CHECK {
      track_file down
    }
    MISC_CHECK {
      misc_path "/bin/true a"
    }
    MISC_CHECK {
      misc_path /bin/false
      user nobody nogroup
    }
  }
  real_server 198.18.3.2 25 {
    weight 0
    FILE_CHECK {
      track_file w
      dynamic
    }
  }
}
`
	cfg, err := keepalived.Parse("k.conf", []byte(src), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := load(t, res.Lua)
	s := findService(t, c, "TCP 192.0.2.25:25")
	r1 := findServer(t, s, "198.18.3.1:25")
	var kinds []string
	for _, ch := range r1.Checks {
		kinds = append(kinds, string(ch.Kind))
		switch ch.Kind {
		case model.CheckSMTP:
			if ch.SMTP.Helo != "mx.example.test" || ch.Timeout != 2*time.Second || ch.Interval != 10*time.Second {
				t.Errorf("smtp check %+v %+v", ch, ch.SMTP)
			}
		case model.CheckFile:
			if ch.File.Path != "/run/luvs-test/down" || ch.File.DynamicWeight || ch.Fall != 1 || ch.Interval != time.Second {
				t.Errorf("file check %+v %+v", ch, ch.File)
			}
		}
	}
	if !slices.Equal(kinds, []string{"smtp", "file", "exec", "exec"}) {
		t.Errorf("checks %q\n%s", kinds, res.Lua)
	}
	if e := r1.Checks[2].Exec; e.User != "nobody" || e.Group != "" {
		t.Errorf("exec 1 runs as %q:%q, want script_user nobody", e.User, e.Group)
	}
	if e := r1.Checks[3].Exec; e.User != "nobody" || e.Group != "nogroup" {
		t.Errorf("exec 2 runs as %q:%q, want nobody:nogroup", e.User, e.Group)
	}
	r2 := findServer(t, s, "198.18.3.2:25")
	if len(r2.Checks) != 1 || r2.Checks[0].File == nil || !r2.Checks[0].File.DynamicWeight {
		t.Errorf("server 2 checks %+v", r2.Checks)
	}

	// weight 2 adds twice the number to the server's weight: refused.
	bad := strings.Replace(src, "track_file w\n", "track_file bad\n", 1)
	cfg, err = keepalived.Parse("k.conf", []byte(bad), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(cfg); err == nil || !strings.Contains(err.Error(), "k.conf:37: FILE_CHECK with weight 2 is not supported") {
		t.Errorf("err = %v", err)
	}
}

// TestSMTPFileAsKeepalived: what keepalived 2.2.7 does, not what its
// manual says (the e2e fixtures 19-smtp-check and 20-file-check show it in
// the VM). An SMTP_CHECK without helo_name says keepalived's default name;
// FILE_CHECK's `dynamic` is an unknown keyword to keepalived, so a weight
// of 1 on a server of weight 0 is the dynamic weight with or without it,
// and weight 0 with it is up/down; weight 0 reverse (up on a non-zero
// number) is refused; a missing file is up in keepalived, down in luvs: a
// warning, once per track_file. FILE_CHECK has no connect_timeout: no
// warning about keepalived's default one being above the delay_loop.
func TestSMTPFileAsKeepalived(t *testing.T) {
	src := `track_file w {
  file "/run/luvs-test/w"
}
track_file z {
  file "/run/luvs-test/z"
  weight 0
}
virtual_server 192.0.2.25 25 {
  protocol TCP
  delay_loop 1
  real_server 198.18.3.1 25 {
    SMTP_CHECK {
    }
  }
  real_server 198.18.3.2 25 {
    weight 0
    FILE_CHECK {
      track_file w
    }
  }
  real_server 198.18.3.3 25 {
    weight 0
    FILE_CHECK {
      track_file w
      dynamic
    }
  }
  real_server 198.18.3.4 25 {
    FILE_CHECK {
      track_file w
      weight 0
      dynamic
    }
  }
  real_server 198.18.3.5 25 {
    FILE_CHECK {
      track_file z
    }
  }
}
`
	cfg, err := keepalived.Parse("k.conf", []byte(src), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := load(t, res.Lua)
	s := findService(t, c, "TCP 192.0.2.25:25")
	if ch := findServer(t, s, "198.18.3.1:25").Checks; len(ch) != 1 || ch[0].SMTP == nil || ch[0].SMTP.Helo != "smtpchecker.keepalived.org" {
		t.Errorf("SMTP_CHECK without helo_name: %+v\n%s", ch, res.Lua)
	}
	for addr, dyn := range map[string]bool{"198.18.3.2:25": true, "198.18.3.3:25": true, "198.18.3.4:25": false, "198.18.3.5:25": false} {
		ch := findServer(t, s, addr).Checks
		if len(ch) != 1 || ch[0].File == nil || ch[0].File.DynamicWeight != dyn {
			t.Errorf("%s: checks %+v, want one file check with dynamic_weight %v\n%s", addr, ch, dyn, res.Lua)
		}
	}
	warns := res.Warnings.Error()
	for _, want := range []string{
		"k.conf:25: warning: FILE_CHECK dynamic dropped: keepalived 2.2.7 does not know it",
		"k.conf:32: warning: FILE_CHECK dynamic dropped",
		"k.conf:2: warning: track_file w: keepalived counts a missing file, or one without a number, as 0; luvs's file check counts it as down",
		"k.conf:5: warning: track_file z: keepalived counts a missing file",
	} {
		if !strings.Contains(warns, want) {
			t.Errorf("warnings lack %q:\n%s", want, warns)
		}
	}
	if strings.Contains(warns, "FILE_CHECK: timeout") {
		t.Errorf("a timeout warning for FILE_CHECK, which has no connect_timeout:\n%s", warns)
	}
	if n := strings.Count(warns, "track_file w: keepalived counts"); n != 1 {
		t.Errorf("%d warnings for track_file w's missing file, want 1:\n%s", n, warns)
	}

	rev := strings.Replace(src, "  weight 0\n}", "  weight 0 reverse\n}", 1)
	cfg, err = keepalived.Parse("k.conf", []byte(rev), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(cfg); err == nil || !strings.Contains(err.Error(), "k.conf:36: FILE_CHECK with weight 0 reverse is not supported") {
		t.Errorf("weight 0 reverse: err = %v", err)
	}
}

// TestLThresholdAlone: the kernel refuses a lower threshold above the
// upper one, also without an upper one (ERANGE); keepalived runs without
// such a server (the e2e test showed it), the import says so. Equal ones
// are fine.
func TestLThresholdAlone(t *testing.T) {
	src := `virtual_server 192.0.2.80 80 {
  protocol TCP
  real_server 198.18.3.1 80 {
    uthreshold 20
    lthreshold 20
  }
  real_server 198.18.3.2 80 {
    lthreshold 8
  }
  real_server 198.18.3.3 80 {
    uthreshold 5
    lthreshold 6
  }
}
`
	cfg, err := keepalived.Parse("k.conf", []byte(src), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Import(cfg)
	want := "k.conf:8: lthreshold 8 is above uthreshold 0 (0: none): the kernel refuses the real server (keepalived runs without it)\n" +
		"k.conf:12: lthreshold 6 is above uthreshold 5 (0: none): the kernel refuses the real server (keepalived runs without it)"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "k.conf:5:") {
		t.Errorf("err = %v, want\n%s", err, want)
	}
}

// TestFWMarkServerPort: keepalived clears the port of a fwmark service's
// real servers; the import does too, keeping it for the checks.
func TestFWMarkServerPort(t *testing.T) {
	src := "virtual_server fwmark 7 {\n  lvs_sched rr\n  real_server 198.18.1.2 80 {\n    TCP_CHECK {\n    }\n  }\n}\n"
	cfg, err := keepalived.Parse("k.conf", []byte(src), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Lua, `real_server "198.18.1.2"`) || !strings.Contains(res.Lua, "tcp { port = 80 }") {
		t.Errorf("port kept or lost for the check:\n%s", res.Lua)
	}
	load(t, res.Lua)
}

// TestScriptUserForNotifyPrograms: script_user becomes scripts { }, who
// runs the notify and quorum programs (and exec checks without a user).
func TestScriptUserForNotifyPrograms(t *testing.T) {
	src := `global_defs {
    script_user nobody nogroup
}
virtual_server 198.18.0.10 80 {
    protocol TCP
    quorum_up "/usr/local/bin/up.sh now"
    real_server 198.18.1.1 80 {
        notify_down /usr/local/bin/down.sh
        TCP_CHECK {
        }
    }
}
`
	kcfg, err := keepalived.Parse("k.conf", []byte(src), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(kcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, res.Lua)
	if cfg.Scripts == nil || *cfg.Scripts != (model.ScriptUser{User: "nobody", Group: "nogroup"}) {
		t.Fatalf("scripts = %+v\n%s", cfg.Scripts, res.Lua)
	}
	if s := cfg.Services[0]; len(s.QuorumUp.Argv) != 2 || len(s.Servers[0].NotifyDown.Argv) != 1 {
		t.Errorf("programs: quorum_up %s, notify_down %s", s.QuorumUp, s.Servers[0].NotifyDown)
	}
}
