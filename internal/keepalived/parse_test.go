package keepalived

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// Every file in testdata/good parses, and its skipped blocks render to text
// that parses back to the same statements.
func TestGoodCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.conf")
	if err != nil || len(files) < 5 {
		t.Fatalf("good corpus: %v, %d files", err, len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg, err := ParseFile(path, Options{})
			if err != nil {
				t.Fatalf("parse:\n%v", err)
			}
			checkRoundTrip(t, cfg)
		})
	}
}

func checkRoundTrip(t *testing.T, cfg *Config) {
	t.Helper()
	text := Render(cfg.Skipped)
	back, err := Parse("rendered.conf", []byte(text), Options{})
	if err != nil {
		t.Fatalf("rendered skipped blocks do not parse:\n%v\n%s", err, text)
	}
	if len(back.Skipped) != len(cfg.Skipped) {
		t.Fatalf("rendered %d blocks, read back %d", len(cfg.Skipped), len(back.Skipped))
	}
	for i := range back.Skipped {
		if a, b := shape(cfg.Skipped[i].Node), shape(back.Skipped[i].Node); a != b {
			t.Errorf("block %d differs after rendering:\n%s\n---\n%s", i, a, b)
		}
	}
}

// shape renders a node's keywords and arguments, without positions.
func shape(n *Node) string {
	var b strings.Builder
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		b.WriteString(strings.Repeat(" ", depth) + strings.Join(append([]string{n.Key}, n.Args...), "|"))
		if n.Block {
			b.WriteString(" {")
		}
		b.WriteByte('\n')
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// Every file in testdata/bad fails with exactly the errors of its "#! " lines.
func TestBadCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.conf")
	if err != nil || len(files) < 20 {
		t.Fatalf("bad corpus: %v, %d files", err, len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := expected(t, path)
			if len(want) == 0 {
				t.Fatalf("%s has no #! lines", path)
			}
			_, err := ParseFile(path, Options{})
			if err == nil {
				t.Fatalf("parsed without error; want:\n%s", strings.Join(want, "\n"))
			}
			got := strings.ReplaceAll(err.Error(), "testdata/bad/", "")
			if got != strings.Join(want, "\n") {
				t.Errorf("errors differ\n got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
			for _, e := range AsErrors(err) {
				if e.Pos.Line < 1 {
					t.Errorf("error without a line: %v", e)
				}
			}
		})
	}
}

func expected(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "#! "); ok {
			want = append(want, s)
		}
	}
	return want
}

func TestMixedModel(t *testing.T) {
	cfg, err := ParseFile("testdata/good/mixed_lvs_vrrp.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Global
	if g.SyncDaemon == nil || g.SyncDaemon.Interface != "eth1" || g.SyncDaemon.Instance != "VI_WEB" ||
		g.SyncDaemon.ID.Value != 51 || g.SyncDaemon.MaxLen.Value != 1472 || g.SyncDaemon.Group.Value.String() != "224.0.0.81" {
		t.Errorf("sync daemon: %+v", g.SyncDaemon)
	}
	if g.Timeouts == nil || g.Timeouts.TCP.Value != 900 || g.Timeouts.TCPFin.Value != 120 || g.Timeouts.UDP.Value != 300 {
		t.Errorf("timeouts: %+v", g.Timeouts)
	}
	if g.ScriptUser == nil || g.ScriptUser.User != "keepalived_script" || !g.EnableScriptSecurity.Value || !g.LVSFlush.Value || g.LVSFlushOnStop.Value != "VS" {
		t.Errorf("global: %+v", g)
	}
	var kinds []string
	for _, s := range cfg.Skipped {
		kinds = append(kinds, s.Keyword+":"+s.Name)
	}
	if w := "global_defs: vrrp_script:chk_haproxy vrrp_sync_group:VG_1 vrrp_instance:VI_WEB vrrp_instance:VI_DNS"; strings.Join(kinds, " ") != w {
		t.Errorf("skipped %v, want %s", kinds, w)
	}
	gd := cfg.Skipped[0]
	if gd.Pos.Line != 4 || gd.End.Line != 19 || !strings.HasPrefix(gd.Text, "global_defs {\n") || !strings.Contains(gd.Text, "lvs_flush") {
		t.Errorf("global_defs raw block %v..%v text %q", gd.Pos, gd.End, gd.Text)
	}
	if r := Render(cfg.Skipped[:1]); strings.Contains(r, "lvs_") || strings.Contains(r, "script_user") || !strings.Contains(r, "router_id LVS_A") {
		t.Errorf("rendered global_defs keeps LVS keys or lost others:\n%s", r)
	}
	if len(cfg.VirtualServers) != 2 {
		t.Fatalf("%d virtual servers", len(cfg.VirtualServers))
	}
	web := cfg.VirtualServers[0]
	if web.Addr.String() != "192.0.2.10:80" || web.Scheduler.Value != "wlc" || web.Method.Value.Kind != model.DirectRoute ||
		web.Persistence.Value != 300 || web.Granularity.Value != 24 || web.Protocol.Value != model.TCP ||
		web.Quorum.Value != 2 || web.Hysteresis.Value != 1 || web.QuorumDown.User != "nobody" || web.QuorumDown.Group != "nogroup" ||
		web.SorryServer.Value.String() != "192.0.2.99:8080" || !web.SorryServerInhibit.Value || web.SorryServerMethod.Value.Kind != model.Masquerade ||
		!web.Alpha.Value || !web.Omega.Value || web.DelayLoop.Value != 6*time.Second {
		t.Errorf("web: %+v", web)
	}
	if len(web.Comments) != 1 || web.Comments[0].Text != "# The web farm: weighted least connection, direct routing." || web.Comments[0].Pos.Line != 64 {
		t.Errorf("web comments %+v", web.Comments)
	}
	rs := web.RealServers[0]
	if rs.Pos.Line != 83 || rs.Weight.Value != 3 || !rs.InhibitOnFailure.Value || rs.UThreshold.Value != 1000 || rs.NotifyUp.Command != "/etc/keepalived/rs.sh up web1" {
		t.Errorf("rs: %+v", rs)
	}
	if len(rs.Comments) != 1 || rs.Comments[0].Text != "# web1 is the bigger box" {
		t.Errorf("rs comments %+v", rs.Comments)
	}
	h, ok := rs.Checkers[0].(*HTTPCheck)
	if !ok || len(h.URLs) != 2 || h.URLs[0].Path.Value != "/healthz" || !reflect.DeepEqual(h.URLs[0].StatusCodes, []StatusRange{{200, 299}, {301, 301}}) ||
		h.URLs[1].Digest.Value != "9b3a0c85a887a256d6939da88aabd8cd" || h.ConnectTimeout.Value != 3*time.Second || h.Retry.Value != 3 ||
		h.DelayBeforeRetry.Value != 2*time.Second || h.Pos.Line != 90 {
		t.Errorf("http check: %+v", rs.Checkers[0])
	}
	tcp := web.RealServers[1].Checkers[0].(*TCPCheck)
	if tcp.ConnectPort.Value != 80 || tcp.ConnectTimeout.Value != 2500*time.Millisecond {
		t.Errorf("tcp check %+v", tcp)
	}
	dns := cfg.VirtualServers[1]
	if dns.Scheduler.Value != "rr" || dns.Method.Value.Kind != model.Masquerade || !dns.OnePacket.Value || dns.Protocol.Value != model.UDP {
		t.Errorf("dns vs %+v", dns)
	}
	if d := dns.RealServers[0].Checkers[0].(*DNSCheck); d.QueryType.Value != "A" || d.Name.Value != "example.com" || d.Retry.Value != 3 {
		t.Errorf("dns check %+v", d)
	}
	if len(cfg.Comments) < 5 || cfg.Comments[0].Pos.Line != 1 {
		t.Errorf("comments %+v", cfg.Comments)
	}
}

func TestGroupsAndTunnels(t *testing.T) {
	cfg, err := ParseFile("testdata/good/groups_fwmark.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Group("WEB")
	var got []string
	for _, e := range g.Entries {
		if e.FWMark != 0 {
			got = append(got, "fwmark "+e.Family.String())
			continue
		}
		got = append(got, e.First.String()+"-"+e.Last.String())
	}
	want := "192.0.2.10-192.0.2.10 192.0.2.20-192.0.2.29 192.0.2.250-192.0.3.10 198.51.100.8-198.51.100.15 2001:db8::10-2001:db8::1f fwmark af(0) fwmark IPv6"
	if strings.Join(got, " ") != want {
		t.Errorf("group entries\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	vs := cfg.VirtualServers[0]
	m := vs.Method.Value
	if vs.Group != "WEB" || vs.SchedFlags.Value != model.SchedFlag1|model.SchedFlag2 || m.Kind != model.Tunnel || m.Tunnel != model.TunnelGUE || m.TunnelPort != 6080 || m.TunnelFlags != model.TunnelRemCsum {
		t.Errorf("group vs %+v", vs)
	}
	fw := cfg.VirtualServers[1]
	if fw.FWMark != 5 || fw.IPFamily.Value != model.IPv6 || fw.Persistence.Value != DefaultPersistenceTimeout || fw.Granularity.Value != 64 ||
		fw.SchedFlags.Value != model.SchedFlag2|model.SchedFlag3 || fw.Method.Value.Tunnel != model.TunnelGRE || fw.Method.Value.TunnelFlags != model.TunnelCsum {
		t.Errorf("fwmark vs %+v", fw)
	}
	rs := fw.RealServers[0]
	if rs.Addr.Port() != 0 || !rs.Method.Value.NoCsum {
		t.Errorf("rs %+v", rs)
	}
	c := rs.Checkers[0].(*TCPCheck)
	if c.BindIf.Value != "eth0" || c.BindPort.Value != 40000 || c.FWMark.Value != 9 || !c.LogAllFailures.Value || !c.Alpha.Value || c.Warmup.Value != 2*time.Second {
		t.Errorf("tcp %+v", c)
	}
}

func TestCheckers(t *testing.T) {
	cfg, err := ParseFile("testdata/good/checkers.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SSL == nil || cfg.SSL.CA.Value != "/etc/ssl/ca.pem" || cfg.Global.ScriptUser.Group != "users" || !cfg.Global.CheckerLogAllFailures.Value {
		t.Errorf("ssl/global %+v %+v", cfg.SSL, cfg.Global)
	}
	cs := cfg.VirtualServers[0].RealServers[0].Checkers
	ssl := cs[0].(*HTTPCheck)
	u := ssl.URLs[0]
	if !ssl.SSL || !ssl.EnableSNI.Value || ssl.Retry.Value != 4 || u.Path.Value != "/status?full" || u.Regex.Value != "^OK( |$)" ||
		!u.RegexNoMatch.Value || len(u.RegexOptions) != 2 || u.RegexStack.Value != [2]uint32{32768, 1048576} || u.RegexMaxOffset.Value != 4096 {
		t.Errorf("ssl %+v %+v", ssl, u)
	}
	if s := cs[1].(*SMTPCheck); s.HeloName.Value != "lvs.example.com" {
		t.Errorf("smtp %+v", s)
	}
	udp := cs[2].(*UDPCheck)
	if !reflect.DeepEqual(udp.Payload.Value, []byte{0xab, 0x12, 0x0f, 0x03, 0x45, 0x06}) || !reflect.DeepEqual(udp.XMask, []byte{0, 0xff}) || udp.MaxReplyLength.Value != 128 {
		t.Errorf("udp %+v", udp)
	}
	misc := cs[3].(*MiscCheck)
	if misc.Path.Value != "/usr/local/bin/check_web --host 198.18.1.1" || misc.Timeout.Value != 5*time.Second || !misc.Dynamic.Value ||
		misc.User.Group != "nogroup" || !misc.Retry.Set || misc.Retry.Value != 0 || misc.DelayLoop.Value != 30*time.Second {
		t.Errorf("misc %+v", misc)
	}
	if f := cs[4].(*FileCheck); f.TrackFile.Value != "web_weight" || !f.Dynamic.Value || f.Weight.Value != -2 || !f.Reverse {
		t.Errorf("file %+v", f)
	}
	if b := cs[5].(*BFDCheck); b.Name.Value != "bfd_web1" {
		t.Errorf("bfd %+v", b)
	}
	vs := cfg.VirtualServers[0]
	if vs.ConnectTimeout.Value != 4*time.Second || vs.Retry.Value != 2 || vs.DelayBeforeRetry.Value != 1500*time.Millisecond || !vs.Warmup.Set || vs.Warmup.Value != 0 ||
		!vs.HASuspend.Value || vs.SMTPAlert.Value || !vs.SMTPAlert.Set || !vs.InhibitOnFailure.Value {
		t.Errorf("vs %+v", vs)
	}
}

func TestIncludeAndParams(t *testing.T) {
	cfg, err := ParseFile("testdata/good/include_glob.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.VirtualServers) != 2 || len(cfg.VirtualServers[0].RealServers) != 2 {
		t.Fatalf("vs %+v", cfg.VirtualServers)
	}
	if p := cfg.VirtualServers[0].RealServers[1].Pos; p.File != "testdata/good/rs/web.inc" || p.Line != 7 {
		t.Errorf("included real server at %v", p)
	}
	if len(cfg.Files) != 4 {
		t.Errorf("files %v", cfg.Files)
	}

	cfg, err = ParseFile("testdata/good/params.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, vs := range cfg.VirtualServers {
		got = append(got, vs.Addr.String())
		for _, rs := range vs.RealServers {
			got = append(got, " "+rs.Addr.String())
		}
	}
	if w := "192.0.2.1:8080  198.18.1.1:8080  198.18.1.2:8080 192.0.2.2:8080  198.18.2.1:8080  198.18.2.2:8080 192.0.2.70:80  198.18.9.9:80"; strings.Join(got, " ") != w {
		t.Errorf("expanded\n got %s\nwant %s", strings.Join(got, " "), w)
	}
	pwd, _ := filepath.Abs("testdata/good")
	if q := cfg.VirtualServers[1].QuorumUp.Command; q != pwd+"/notify.sh up 2" {
		t.Errorf("quorum_up %q", q)
	}
	if m := cfg.VirtualServers[2].RealServers[0].Checkers[0].(*MiscCheck); m.Path.Value != "/bin/echo #not-a-comment" {
		t.Errorf("misc_path %q", m.Path.Value)
	}
	if p := cfg.VirtualServers[1].RealServers[0].Pos; p.Line != 27 {
		t.Errorf("expanded real server at %v, want the line using $VS", p)
	}
}

func TestNextLineBrace(t *testing.T) {
	cfg, err := ParseFile("testdata/good/next_line_brace.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs := cfg.VirtualServers[0]
	if len(vs.RealServers) != 3 || vs.End.Line != 13 {
		t.Fatalf("%+v", vs)
	}
	h := vs.RealServers[0].Checkers[0].(*HTTPCheck)
	if len(h.URLs) != 2 || h.URLs[0].Path.Value != "/a b" || h.URLs[1].Path.Value != "/c" {
		t.Errorf("urls %+v %+v", h.URLs[0], h.URLs[1])
	}
}

// The slides' configuration with its missing '}' is an error at the url
// block keepalived silently misreads.
func TestSeedMistake(t *testing.T) {
	src := "virtual_server 192.168.0.1 80 {\n    real_server 192.168.0.2 80 {\n        HTTP_GET {\n            url {\n                path /\n        }\n    }\n    real_server 192.168.0.3 80 {\n    }\n}\n"
	_, err := Parse("seed.conf", []byte(src), Options{})
	want := "seed.conf:4: 'url' block opened here is never closed: the '}' on line 6 is indented less, like an outer block's"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestIncludeCycle(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.conf", "include b.conf\n")
	write("b.conf", "global_defs {\n    router_id X\n}\ninclude *.conf\n")
	_, err := ParseFile(filepath.Join(dir, "a.conf"), Options{})
	es := AsErrors(err)
	if len(es) != 2 {
		t.Fatalf("got %v", err)
	}
	for _, e := range es {
		if e.Pos.File != filepath.Join(dir, "b.conf") || e.Pos.Line != 4 || !strings.HasPrefix(e.Msg, "include cycle: ") {
			t.Errorf("%v", e)
		}
	}
}

// A big configuration parses in time linear in its size, and the limits
// stop runaway input with a clear error.
func TestHugeAndLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("virtual_server 192.0.2.1 80 {\n    protocol TCP\n")
	for i := 0; i < 25000; i++ {
		b.WriteString("    real_server 198.18.")
		b.WriteString(strconv.Itoa(i / 250))
		b.WriteString(".")
		b.WriteString(strconv.Itoa(i%250 + 1))
		b.WriteString(" 80 {\n        weight 1\n        TCP_CHECK { connect_timeout 2 }\n    }\n")
	}
	b.WriteString("}\n")
	src := []byte(b.String())
	start := time.Now()
	cfg, err := Parse("huge.conf", src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cfg.VirtualServers[0].RealServers); n != 25000 {
		t.Fatalf("%d real servers", n)
	}
	t.Logf("%d KB, 100k lines in %v", len(src)>>10, time.Since(start))

	_, err = Parse("huge.conf", src, Options{Limits: Limits{FileSize: 1 << 20}})
	if err == nil || !strings.Contains(err.Error(), "huge.conf: file is") {
		t.Errorf("file size limit: %v", err)
	}
	deep := strings.Repeat("a {\n", 100) + strings.Repeat("}\n", 100)
	_, err = Parse("deep.conf", []byte(deep), Options{})
	if err == nil || err.Error() != "deep.conf:33: blocks nested deeper than 32" {
		t.Errorf("depth limit: %v", err)
	}
	bomb := "$A=x x x x x x x x x x\n$B=$A $A $A $A $A $A $A $A $A $A\n$C=$B $B $B $B $B $B $B $B $B $B\n$D=$C $C $C $C $C $C $C $C $C $C\n$E=$D $D $D $D $D $D $D $D $D $D\n$F=$E $E $E $E $E $E $E $E $E $E\n$G=$F $F $F $F $F $F $F $F $F $F\n$H=$G $G $G $G $G $G $G $G $G $G\n" + strings.Repeat("vrrp_instance $H\n", 50)
	start = time.Now()
	_, err = Parse("bomb.conf", []byte(bomb), Options{})
	if err == nil || !strings.Contains(err.Error(), "parameter substitution makes more than") || time.Since(start) > 5*time.Second {
		t.Errorf("substitution bomb: %v after %v", err, time.Since(start))
	}
}
