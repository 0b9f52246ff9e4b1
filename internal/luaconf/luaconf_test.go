package luaconf

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/luasandbox"
	"github.com/luvs-lb/luvs/internal/model"
)

// The corpus: every file in testdata/bad must fail with exactly the
// problems listed in its "--! " header lines (positions relative to the file).
func TestMalformedCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.lua")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Errorf("corpus has %d malformed configs, want at least 40", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := expectedProblems(t, path)
			if len(want) == 0 {
				t.Fatalf("%s has no --! lines", path)
			}
			lim := luasandbox.DefaultLimits
			lim.Time = time.Second
			res, err := Load(path, Options{Limits: lim})
			if err == nil {
				res.Close()
				t.Fatalf("loaded without error; want:\n%s", strings.Join(want, "\n"))
			}
			got := strings.Split(strings.ReplaceAll(err.Error(), "testdata/bad/", ""), "\n")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("problems differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func expectedProblems(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "--! "); ok {
			want = append(want, s)
		}
	}
	return want
}

// Every example configuration loads.
func TestExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.lua")
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_exec.lua") {
			continue // imperative scripts for luvs exec
		}
		n++
		res, err := Load(path, Options{})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if len(res.Config.Services) == 0 {
			t.Errorf("%s: no services", path)
		}
		if len(res.Warnings) > 0 {
			t.Errorf("%s: warnings:\n%v", path, res.Warnings)
		}
		res.Close()
	}
	if n < 5 {
		t.Errorf("only %d example configs", n)
	}
}

func load(t *testing.T, src string) (*model.Config, error) {
	t.Helper()
	lim := luasandbox.DefaultLimits
	lim.Time = time.Second
	return loadLimited(t, src, lim)
}

func loadLimited(t *testing.T, src string, lim luasandbox.Limits) (*model.Config, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Load(path, Options{Limits: lim})
	if err != nil {
		return nil, err
	}
	t.Cleanup(res.Close)
	return res.Config, nil
}

func TestDSLBuildsModel(t *testing.T) {
	cfg, err := load(t, `
defaults { scheduler = "wrr", forward = "nat", check = http { path = "/healthz", interval = "2s" }, rise = 3 }
local web1 = real_server "198.18.1.1:80" { weight = 3 }
virtual_server "198.18.0.10:80" {
  protocol = "tcp", persistence = "300s", sorry_server = "198.18.9.1:80", quorum = 1,
  web1,
  real_server "198.18.1.2:80" { check = tcp { timeout = "1s" }, on_fail = "remove" },
  real_server "198.18.1.3" { forward = "dr", check = false },
  healthcheck = function(lvs, dests) end,
}
local pool = {}
for i = 1, 20 do pool[#pool + 1] = real_server(("[2001:db8:2::%d]:8080"):format(i)) {} end
virtual_server "[2001:db8::10]:8080" { servers = pool }
virtual_server "udp:198.18.0.53:53" { scheduler = "sh", sched_flags = "sh-fallback", one_packet = true,
  real_server "198.18.1.1:53" {} }
virtual_server "fwmark6:9" { real_server "2001:db8:1::1" { forward = "dr" } }
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Services) != 4 {
		t.Fatalf("%d services", len(cfg.Services))
	}
	web := cfg.Services[0]
	if web.Scheduler != "wrr" || !web.Persistent || web.Timeout != 300 || web.Quorum != 1 ||
		web.Sorry == nil || web.Sorry.String() != "198.18.9.1:80" || web.Script == nil {
		t.Errorf("web service: %+v", web)
	}
	if _, ok := web.Script.Fn.(*lua.LFunction); !ok {
		t.Errorf("healthcheck is %T", web.Script.Fn)
	}
	s := web.Servers
	if len(s) != 3 || s[0].Weight != 3 || s[0].Forward != model.Masquerade || len(s[0].Checks) != 1 {
		t.Fatalf("servers: %+v", s)
	}
	c := s[0].Checks[0]
	if c.Kind != model.CheckHTTP || c.HTTP.Path != "/healthz" || c.Interval != 2*time.Second || c.Rise != 3 || c.Fall != model.DefaultFall {
		t.Errorf("inherited check: %+v", c)
	}
	if c := s[1].Checks[0]; c.Kind != model.CheckTCP || c.Timeout != time.Second || c.Rise != 3 || s[1].OnFail != model.Remove {
		t.Errorf("own check: %+v %s", c, s[1].OnFail)
	}
	if s[2].Port != 80 || s[2].Forward != model.DirectRoute || len(s[2].Checks) != 0 {
		t.Errorf("bare address server: %+v", s[2])
	}
	if v6 := cfg.Services[1]; len(v6.Servers) != 20 || v6.Servers[19].Addr.String() != "2001:db8:2::20" {
		t.Errorf("pool: %d servers", len(v6.Servers))
	}
	if u := cfg.Services[2]; u.Protocol != model.UDP || u.SchedFlags != model.SchedFlag1 || !u.OnePacket {
		t.Errorf("udp: %+v", u.Service)
	}
	if f := cfg.Services[3]; f.FWMark != 9 || f.Family != model.IPv6 {
		t.Errorf("fwmark: %+v", f.Service)
	}
	if ps := model.Validate(cfg.State()); len(ps) > 0 {
		t.Errorf("state invalid: %v", ps)
	}
}

// Configurations cannot reach the file system, processes or the network,
// and cannot hang or exhaust memory.
func TestSandbox(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`os.execute("id")`, "os.execute is not available in the luvs sandbox"},
		{`io.open("/etc/passwd")`, "io.open is not available in the luvs sandbox"},
		{`dofile("/etc/passwd")`, "dofile is not available in the luvs sandbox"},
		{`loadfile("/etc/passwd")`, "loadfile is not available in the luvs sandbox"},
		{`loadstring("return 1")`, "loadstring is not available in the luvs sandbox"},
		{`load(function() return nil end)`, "load is not available in the luvs sandbox"},
		{`require("os")`, "require is not available in the luvs sandbox"},
		{`debug.getinfo(1)`, "debug.getinfo is not available in the luvs sandbox"},
		{`package.loadlib("x", "y")`, "package.loadlib is not available in the luvs sandbox"},
		{`setfenv(1, {})`, "setfenv is not available in the luvs sandbox"},
		{`os.getenv("HOME")`, "os.getenv is not available in the luvs sandbox"},
		{`string.dump(print)`, "string.dump is not available in the luvs sandbox"},
		{`http.get("http://198.18.0.1/")`, "http.get talks to the network, which is only allowed inside health checks"},
		{`tcp.connect("198.18.0.1:80")`, "tcp.connect talks to the network"},
		{`include "../../../etc/passwd"`, "outside the configuration's directory"},
		{`include "/etc/hostname"`, "outside the configuration's directory"},
		{`while true do end`, "loading stopped: did not finish within 1s (an endless loop?)"},
		{`local s = string.rep("x", 1e10)`, "t.lua:1:1: loading stopped: memory limit exceeded: more than 256 MiB allocated (string.rep needs 10000000016 bytes)"},
		{`local function f() return f() + 1 end f()`, "stack overflow"},
	} {
		_, err := load(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n got: %v\nwant: %s", c.src, err, c.want)
		}
	}
}

// A configuration that allocates without bound is stopped by the memory
// limit (here 32 MiB, so that it trips well before the time limit).
func TestMemoryLimit(t *testing.T) {
	lim := luasandbox.Limits{Time: 20 * time.Second, Memory: 32 << 20, CallDepth: 200}
	for _, src := range []string{
		`local t = {} for i = 1, 1e9 do t[i] = {} end`,
		`local s = "x" for i = 1, 40 do s = s .. s end`,
	} {
		start := time.Now()
		_, err := loadLimited(t, src, lim)
		if err == nil || !strings.Contains(err.Error(), "loading stopped: memory limit exceeded: more than 32 MiB allocated") {
			t.Errorf("%s: %v", src, err)
		}
		t.Logf("%s stopped after %s", src, time.Since(start).Round(time.Millisecond))
	}
}

func TestInclude(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "main.lua"), []byte(`include "sub/pool.lua"
virtual_server "198.18.0.10:80" { servers = pool }
`), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "pool.lua"), []byte(`include "more.lua"
pool = { real_server "198.18.1.1:80" {}, extra }
`), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "more.lua"), []byte(`extra = real_server "198.18.1.2:80" { weight = 2 }
`), 0o644)
	res, err := Load(filepath.Join(dir, "main.lua"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if n := len(res.Config.Services[0].Servers); n != 2 || len(res.Files) != 3 {
		t.Errorf("%d servers from %d files", n, len(res.Files))
	}
	// A problem in an included file is reported at its own position.
	os.WriteFile(filepath.Join(dir, "sub", "more.lua"), []byte("\n  extra = real_server \"198.18.1.2:80\" { wieght = 2 }\n"), 0o644)
	_, err = Load(filepath.Join(dir, "main.lua"), Options{})
	if err == nil || !strings.Contains(err.Error(), "sub/more.lua:2:41: unknown key \"wieght\"") {
		t.Errorf("include error: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "sub", "more.lua"), []byte("include \"pool.lua\"\n"), 0o644)
	_, err = Load(filepath.Join(dir, "main.lua"), Options{})
	if err == nil || !strings.Contains(err.Error(), "include cycle") {
		t.Errorf("include cycle: %v", err)
	}
}

// A keyed field after list entries whose value is a call is one value, not
// more list entries (a gopher-lua compiler bug, patched in third_party).
func TestKeyedCallAfterServers(t *testing.T) {
	if _, err := load(t, `local t = { "a", k = tostring(1) } assert(#t == 1, "#t == " .. #t)`); err != nil {
		t.Error(err)
	}
	cfg, err := load(t, `virtual_server "198.18.0.10:80" { real_server "198.18.1.1:80" {}, check = tcp { timeout = "1s" } }`)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Services[0].Servers
	if len(s) != 1 || len(s[0].Checks) != 1 || s[0].Checks[0].Kind != model.CheckTCP || s[0].Checks[0].Timeout != time.Second {
		t.Errorf("servers: %+v", s)
	}
}

// A real server added at run time inherits from the declaration of its own
// service, also when a TCP and a UDP service share the address and port
// (with the protocol in the address or as an option).
func TestServerForMatchesProtocol(t *testing.T) {
	for _, src := range []string{`
virtual_server "198.18.0.1:53" { protocol = "tcp", weight = 3, forward = "dr", real_server "198.18.1.1" {} }
virtual_server "udp:198.18.0.1:53" { weight = 7, forward = "nat", real_server "198.18.1.1" {} }
extra = real_server "198.18.1.2" {}
`, `
virtual_server "198.18.0.1:53" { protocol = "udp", weight = 7, forward = "nat", real_server "198.18.1.1" {} }
virtual_server "198.18.0.1:53" { weight = 3, forward = "dr", real_server "198.18.1.1" {} }
extra = real_server "198.18.1.2" {}
`} {
		path := filepath.Join(t.TempDir(), "t.lua")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Load(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		extra := res.L.GetGlobal("extra")
		for _, s := range res.Config.Services {
			d, err := res.ServerFor(s.ServiceKey, extra)
			if err != nil {
				t.Fatalf("%s: %v", s.ServiceKey, err)
			}
			weight, fwd := 3, model.DirectRoute
			if s.Protocol == model.UDP {
				weight, fwd = 7, model.Masquerade
			}
			if d.Port != 53 || d.Weight != weight || d.Forward != fwd {
				t.Errorf("%s: added %+v, want weight %d forward %s", s.ServiceKey, d, weight, fwd)
			}
		}
		res.Close()
	}
}

// Warnings do not stop the load; Result.Warnings lists them in file order.
func TestWarnings(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`virtual_server "[2001:db8::10]:8080" { real_server "2001:db8:12::2:8080" {} }`,
			`t.lua:1:52: warning: real_server "2001:db8:12::2:8080" is the address 2001:db8:12::2:8080 with port 8080; did you mean "[2001:db8:12::2]:8080"? (write "[2001:db8:12::2:8080]" for the address)`},
		{`virtual_server "[2001:db8::10]:8080" { sorry_server = "2001:db8:12::9:80", real_server "[2001:db8:12::2:8080]" {} }`,
			`t.lua:1:55: warning: sorry_server "2001:db8:12::9:80" is the address 2001:db8:12::9:80 with port 8080; did you mean "[2001:db8:12::9]:80"? (write "[2001:db8:12::9:80]" for the address)`},
		{`virtual_server "udp:198.18.0.53:53" { one_packet = true, real_server "198.18.1.1" {} }`,
			`t.lua:1:52: warning: one_packet with NAT real servers (198.18.1.1:53): the kernel keeps no connection to translate the replies, so clients get no answer; use forward = "dr" or "tunnel", or drop one_packet`},
		{"defaults { one_packet = true }\nvirtual_server \"fwmark:3\" { real_server \"198.18.1.1:53\" {} }",
			`t.lua:1:25: warning: one_packet with NAT real servers (198.18.1.1:53): the kernel keeps no connection to translate the replies, so clients get no answer; use forward = "dr" or "tunnel", or drop one_packet`},
		{`virtual_server "198.18.0.10:80" {}`,
			`t.lua:1:1: warning: virtual_server "198.18.0.10:80" has no real servers (nor a sorry_server or healthcheck to add them): its traffic is taken and dropped`},
		{`virtual_server "198.18.0.10:80" { servers = {} }`,
			`t.lua:1:1: warning: virtual_server "198.18.0.10:80" has no real servers (nor a sorry_server or healthcheck to add them): its traffic is taken and dropped`},
		{`virtual_server "198.18.0.10:80" { sorry_server = "198.18.9.1" }`, ""},
		{`virtual_server "198.18.0.10:80" { healthcheck = function() end }`, ""},
		{`virtual_server "udp:198.18.0.53:53" { one_packet = true, forward = "dr", real_server "198.18.1.1" {} }`, ""},
		{`virtual_server "[2001:db8::10]:80" { real_server "2001:db8::1" {}, real_server "[2001:db8::2:80]" {} }`, ""},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "t.lua")
		if err := os.WriteFile(path, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Load(path, Options{})
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		got := strings.ReplaceAll(res.Warnings.Error(), dir+"/", "")
		if got != c.want {
			t.Errorf("%s\n got: %s\nwant: %s", c.src, got, c.want)
		}
		res.Close()
	}
}

// Only regular files are included (a FIFO would block, /dev/zero never
// end), and every file has a size limit.
func TestIncludeLimits(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "main.lua")
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.lua"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "dir.lua"), 0o755)
	os.WriteFile(filepath.Join(dir, "big.lua"), []byte(strings.Repeat("-- padding\n", 200)), 0o644)
	for _, c := range []struct{ src, want string }{
		{`include "fifo.lua"`, `main.lua:1:1: include "fifo.lua": not a regular file (a named pipe); only files can be included`},
		{`include "dir.lua"`, `main.lua:1:1: include "dir.lua": not a regular file (a directory); only files can be included`},
		{`include "big.lua"`, `main.lua:1:1: include "big.lua": file of 2200 bytes is over the limit of 1024 bytes for a configuration file`},
		{"x = 1\n" + strings.Repeat("-- padding\n", 100), `main.lua: file of 1106 bytes is over the limit of 1024 bytes for a configuration file`},
	} {
		os.WriteFile(main, []byte(c.src), 0o644)
		done := make(chan error, 1)
		go func() {
			_, err := Load(filepath.Join(dir, "main.lua"), Options{MaxSource: 1024})
			done <- err
		}()
		select {
		case err := <-done:
			if got := strings.ReplaceAll(fmt.Sprint(err), dir+"/", ""); got != c.want {
				t.Errorf("%s\n got: %s\nwant: %s", c.src, got, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Load still running after 5s", c.src)
		}
	}
}

// A suggestion for a very long name is not looked for (the edit distance
// of two 40,000-character names took seconds).
func TestSuggestLongNames(t *testing.T) {
	long := strings.Repeat("a", 40000)
	start := time.Now()
	if s := suggest(long+"b", []string{long + "c", "virtual_server"}); s != "" {
		t.Errorf("suggested %q", s)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("took %s", d)
	}
	if s := suggest("virtual_sever", []string{strings.Repeat("x", 1000), "virtual_server"}); s != ` (did you mean "virtual_server"?)` {
		t.Errorf("short name: %q", s)
	}
}

// drain_timeout and slow_start inherit like other server keys; drain_timeout
// defaults to 30 s; bad values are errors at their position.
func TestDrainTimeoutAndSlowStart(t *testing.T) {
	cfg, err := load(t, `
defaults { slow_start = "20s" }
virtual_server "198.18.0.10:80" {
  drain_timeout = "5s",
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80" { drain_timeout = 0, slow_start = 0 },
}
virtual_server "198.18.0.11:80" { real_server "198.18.1.1:80" {} }`)
	if err != nil {
		t.Fatal(err)
	}
	got := func(i, j int) [2]time.Duration {
		rs := cfg.Services[i].Servers[j]
		return [2]time.Duration{rs.DrainTimeout, rs.SlowStart}
	}
	for _, c := range []struct {
		i, j int
		want [2]time.Duration
	}{
		{0, 0, [2]time.Duration{5 * time.Second, 20 * time.Second}},
		{0, 1, [2]time.Duration{0, 0}},
		{1, 0, [2]time.Duration{30 * time.Second, 20 * time.Second}},
	} {
		if g := got(c.i, c.j); g != c.want {
			t.Errorf("service %d server %d: drain_timeout, slow_start = %v, want %v", c.i, c.j, g, c.want)
		}
	}
	_, err = load(t, `virtual_server "198.18.0.10:80" { real_server "198.18.1.1:80" { slow_start = "soon" } }`)
	if err == nil || !strings.Contains(err.Error(), ":1:") || !strings.Contains(err.Error(), "slow_start") {
		t.Errorf("a bad slow_start: %v", err)
	}
}

// Hooks are argv lists or Lua functions; they inherit like other server
// keys; a function is named by where it is defined (a further closure of
// the same definition by #n), the names resolve to the functions, and two
// loads of the same file give equal hooks.
func TestHooks(t *testing.T) {
	src := `
local function on_down(ev) end
defaults { notify_up = function(ev) end }
virtual_server "198.18.0.10:80" {
  quorum_up = { "/bin/quorum", "up" },
  quorum_down = function(ev) end,
  notify_down = on_down,
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80" { notify_up = { "/bin/up", "web2" } },
}
local servers = {}
for i = 1, 2 do
  servers[i] = real_server("198.18.2." .. i .. ":80") { notify_down = function(ev) return i end }
end
virtual_server "198.18.0.11:80" { servers = servers }
`
	path := filepath.Join(t.TempDir(), "h.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func() *Result {
		res, err := Load(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(res.Close)
		return res
	}
	res := load()
	web, other := res.Config.Services[0], res.Config.Services[1]
	for _, c := range []struct {
		what string
		got  model.Hook
		want string
	}{
		{"quorum_up", web.QuorumUp, `{ "/bin/quorum", "up" }`},
		{"quorum_down", web.QuorumDown, "lua function (h.lua:6)"},
		{"inherited notify_up", web.Servers[0].NotifyUp, "lua function (h.lua:3)"},
		{"notify_down of the service", web.Servers[0].NotifyDown, "lua function (h.lua:2)"},
		{"own notify_up", web.Servers[1].NotifyUp, `{ "/bin/up", "web2" }`},
		{"notify_down = on_down, inherited", web.Servers[1].NotifyDown, "lua function (h.lua:2)"},
		{"loop closure 1", other.Servers[0].NotifyDown, "lua function (h.lua:13)"},
		{"loop closure 2", other.Servers[1].NotifyDown, "lua function (h.lua:13)"},
	} {
		if s := strings.ReplaceAll(c.got.String(), path, "h.lua"); s != c.want {
			t.Errorf("%s: %s, want %s", c.what, s, c.want)
		}
	}
	if !slices.Equal(web.QuorumUp.Argv, []string{"/bin/quorum", "up"}) || web.QuorumUp.Func != "" {
		t.Errorf("quorum_up = %+v", web.QuorumUp)
	}
	if !web.Servers[0].NotifyDown.Equal(web.Servers[1].NotifyDown) {
		t.Error("one function inherited by two servers has two names")
	}
	a, b := other.Servers[0].NotifyDown, other.Servers[1].NotifyDown
	if a.Func != path+":13" || b.Func != path+":13#2" {
		t.Errorf("closures of one definition named %q and %q", a.Func, b.Func)
	}
	// Each name resolves to its own closure.
	for i, h := range []model.Hook{a, b} {
		fn := res.HookFunc(h.Func)
		if fn == nil {
			t.Fatalf("HookFunc(%q) = nil", h.Func)
		}
		if err := res.L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, res.L.NewTable()); err != nil {
			t.Fatal(err)
		}
		if got := res.L.Get(-1); got != lua.LNumber(i+1) {
			t.Errorf("%s returned %v, want %d", h.Func, got, i+1)
		}
		res.L.Pop(1)
	}
	if res.HookFunc(path+":99") != nil || !res.HasLuaHooks() || web.Servers[0].NotifyUp.IsZero() || !other.QuorumUp.IsZero() {
		t.Error("HookFunc, HasLuaHooks or IsZero wrong")
	}
	// Loading the file again (a reload) gives equal hooks.
	again := load().Config
	if !reflect.DeepEqual(again.Services[0].QuorumDown, web.QuorumDown) || !reflect.DeepEqual(again.Services[1].Servers, other.Servers) {
		t.Error("the same file loaded twice gives other hooks")
	}
	if a.Equal(b) || web.QuorumUp.Equal(web.QuorumDown) || web.QuorumUp.Equal(model.Hook{}) {
		t.Error("different hooks compare equal")
	}
	// Without Lua hooks the state is not needed for them.
	plain := filepath.Join(t.TempDir(), "p.lua")
	os.WriteFile(plain, []byte(`virtual_server "198.18.0.10:80" { real_server "198.18.1.1:80" { notify_down = { "/bin/x" } } }`), 0o644)
	pres, err := Load(plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pres.Close()
	if pres.HasLuaHooks() {
		t.Error("HasLuaHooks without a Lua hook")
	}
}
