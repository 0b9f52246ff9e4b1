package check

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/value"
)

// required are the settings a kind cannot do without.
var required = map[model.CheckKind]MapSource{
	model.CheckDNS:  {"name": "example.test."},
	model.CheckExec: {"argv": []any{"/bin/true"}},
	model.CheckFile: {"path": "/run/luvs/web1"},
}

func TestDecodeDefaults(t *testing.T) {
	for _, s := range Specs() {
		t.Run(string(s.Kind), func(t *testing.T) {
			c, err := Decode(s.Kind, MapSource{})
			if req := required[s.Kind]; req != nil {
				var ps Problems
				if !errors.As(err, &ps) || len(ps) != 1 || req[ps[0].Key] == nil {
					t.Fatalf("without %v: %v", req, err)
				}
				c, err = Decode(s.Kind, req)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := model.Check{Kind: s.Kind, Interval: model.DefaultInterval, Timeout: model.DefaultTimeout,
				Rise: model.DefaultRise, Fall: model.DefaultFall}
			if c.Interval != want.Interval || c.Timeout != want.Timeout || c.Rise != want.Rise ||
				c.Fall != want.Fall || c.RetryDelay != 0 || c.Addr.IsValid() || c.Port != 0 {
				t.Errorf("common defaults: %+v", c)
			}
			if got := Settings(c); len(got) != len(required[s.Kind]) {
				t.Errorf("non-default settings of the default check: %v", got)
			}
			if _, err := New(c); err != nil {
				t.Errorf("New(decoded): %v", err)
			}
		})
	}
	c, _ := Decode(model.CheckHTTP, MapSource{})
	if h := c.HTTP; h.Method != "GET" || h.Path != "/" || !reflect.DeepEqual(h.Status, []model.StatusRange{{Lo: 200, Hi: 299}}) || h.Verify {
		t.Errorf("http defaults: %+v", h)
	}
	c, _ = Decode(model.CheckDNS, required[model.CheckDNS])
	if d := c.DNS; d.Type != "A" || d.Rcode != "NOERROR" || d.Answer != "" {
		t.Errorf("dns defaults: %+v", d)
	}
}

// Every key decodes into its field, and shows as a non-default setting.
func TestDecodeEachKey(t *testing.T) {
	for _, tc := range []struct {
		kind  model.CheckKind
		key   string
		v     any
		check func(c model.Check) bool
	}{
		{model.CheckTCP, "interval", "1m30s", func(c model.Check) bool { return c.Interval == 90*time.Second }},
		{model.CheckTCP, "interval", 10.5, func(c model.Check) bool { return c.Interval == 10500*time.Millisecond }},
		{model.CheckTCP, "timeout", "50ms", func(c model.Check) bool { return c.Timeout == 50*time.Millisecond }},
		{model.CheckTCP, "rise", 5.0, func(c model.Check) bool { return c.Rise == 5 }},
		{model.CheckTCP, "fall", 1.0, func(c model.Check) bool { return c.Fall == 1 }},
		{model.CheckTCP, "retry_delay", "1s", func(c model.Check) bool { return c.RetryDelay == time.Second }},
		{model.CheckPing, "addr", "::ffff:198.18.0.1", func(c model.Check) bool { return c.Addr == netip.MustParseAddr("198.18.0.1") }},
		{model.CheckUDP, "port", 53.0, func(c model.Check) bool { return c.Port == 53 }},
		{model.CheckHTTP, "method", "head", func(c model.Check) bool { return c.HTTP.Method == "head" }},
		{model.CheckHTTP, "path", "/healthz", func(c model.Check) bool { return c.HTTP.Path == "/healthz" }},
		{model.CheckHTTP, "host", "www.example.test", func(c model.Check) bool { return c.HTTP.Host == "www.example.test" }},
		{model.CheckHTTP, "headers", map[string]any{"X-A": "1", "X-B": 2.0, "X-C": true},
			func(c model.Check) bool {
				return reflect.DeepEqual(c.HTTP.Headers, map[string]string{"X-A": "1", "X-B": "2", "X-C": "true"})
			}},
		{model.CheckHTTP, "status", []any{200.0, "300-302"},
			func(c model.Check) bool {
				return reflect.DeepEqual(c.HTTP.Status, []model.StatusRange{{Lo: 200, Hi: 200}, {Lo: 300, Hi: 302}})
			}},
		{model.CheckHTTP, "status", "204", func(c model.Check) bool {
			return reflect.DeepEqual(c.HTTP.Status, []model.StatusRange{{Lo: 204, Hi: 204}})
		}},
		{model.CheckHTTP, "body", `\d+ ok`, func(c model.Check) bool { return c.HTTP.Body == `\d+ ok` }},
		{model.CheckHTTP, "digest", "D41D8CD98F00B204E9800998ECF8427E", func(c model.Check) bool { return c.HTTP.Digest == "D41D8CD98F00B204E9800998ECF8427E" }},
		{model.CheckHTTPS, "sni", "www.example.test", func(c model.Check) bool { return c.HTTP.SNI == "www.example.test" }},
		{model.CheckHTTPS, "verify", true, func(c model.Check) bool { return c.HTTP.Verify }},
		{model.CheckUDP, "payload", "ping", func(c model.Check) bool { return string(c.UDP.Payload) == "ping" }},
		{model.CheckUDP, "expect", "pong", func(c model.Check) bool { return string(c.UDP.Expect) == "pong" }},
		{model.CheckDNS, "type", "aaaa", func(c model.Check) bool { return c.DNS.Type == "aaaa" }},
		{model.CheckDNS, "rcode", "NXDOMAIN", func(c model.Check) bool { return c.DNS.Rcode == "NXDOMAIN" }},
		{model.CheckDNS, "answer", "198.18.0.1", func(c model.Check) bool { return c.DNS.Answer == "198.18.0.1" }},
		{model.CheckExec, "argv", []any{"/bin/check", "-q"}, func(c model.Check) bool { return slices.Equal(c.Exec.Argv, []string{"/bin/check", "-q"}) }},
		{model.CheckExec, "dynamic_weight", true, func(c model.Check) bool { return c.Exec.DynamicWeight }},
	} {
		src := MapSource{tc.key: tc.v}
		for k, v := range required[tc.kind] {
			if k != tc.key {
				src[k] = v
			}
		}
		c, err := Decode(tc.kind, src)
		if err != nil {
			t.Errorf("%s %s = %v: %v", tc.kind, tc.key, tc.v, err)
			continue
		}
		if !tc.check(c) {
			t.Errorf("%s %s = %v: decoded %+v %+v %+v %+v %+v", tc.kind, tc.key, tc.v, c, c.HTTP, c.UDP, c.DNS, c.Exec)
		}
		if !slices.ContainsFunc(Settings(c), func(f Field) bool { return f.Key == tc.key }) {
			t.Errorf("%s %s = %v: not in Settings %v", tc.kind, tc.key, tc.v, Settings(c))
		}
	}
}

// A bad value is rejected with a message naming its key.
func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		kind model.CheckKind
		key  string
		v    any
		want string
	}{
		{model.CheckTCP, "interval", "5x", `interval: invalid duration "5x"`},
		{model.CheckTCP, "interval", "50ms", "interval 50ms is too short (at least 100ms)"},
		{model.CheckTCP, "timeout", true, `timeout must be a duration like "2s", got boolean`},
		{model.CheckTCP, "rise", 0.0, "rise 0 out of range 1..1000"},
		{model.CheckTCP, "fall", 1.5, "fall must be an integer, got 1.5"},
		{model.CheckTCP, "retry_delay", "-1s", "retry_delay -1s is too short"},
		{model.CheckTCP, "addr", "198.18.0.1:80", `addr: invalid address "198.18.0.1:80"`},
		{model.CheckTCP, "port", 0.0, "port 0 out of range 1..65535"},
		{model.CheckHTTP, "method", "GE T", `method "GE T" is not an HTTP method`},
		{model.CheckHTTP, "path", "healthz", `path must start with /, got "healthz"`},
		{model.CheckHTTP, "host", 1.0, "host must be a string, got number"},
		{model.CheckHTTP, "headers", "X-A: 1", "headers must be a table of name = value, got string"},
		{model.CheckHTTP, "headers", map[string]any{"X-A": []any{}}, "headers: X-A must be a string, got table"},
		{model.CheckHTTP, "path", "/health\n", `path "/health\n": net/url: invalid control character in URL`},
		{model.CheckHTTP, "host", "a\r\nX-B: 1", `host "a\r\nX-B: 1" has a control character (U+000D)`},
		{model.CheckHTTP, "headers", map[string]any{"X\r\nA": "1"}, `headers: "X\r\nA" is not a header name`},
		{model.CheckHTTP, "headers", map[string]any{"": "1"}, `headers: "" is not a header name`},
		{model.CheckHTTP, "headers", map[string]any{"X-A": "1\nX-B: 2"}, `headers: X-A = "1\nX-B: 2" has a control character`},
		{model.CheckHTTP, "headers", map[string]any{"X-A": "\x00"}, `headers: X-A = "\x00" has a control character`},
		{model.CheckHTTPS, "sni", "a\x00", `sni "a\x00" has a control character (U+0000)`},
		{model.CheckHTTP, "status", "600", `status: "600" is outside 100-599`},
		{model.CheckHTTP, "status", "299-200", `status: "299-200" is backwards`},
		{model.CheckHTTP, "status", "2xx", `status: "2xx" is not a code or range`},
		{model.CheckHTTP, "body", "([a-z]+", "body: invalid regular expression"},
		{model.CheckHTTP, "digest", "abc", `digest must be 32 hex digits (an MD5 sum), got "abc"`},
		{model.CheckHTTPS, "verify", "yes", "verify must be true or false, got string"},
		{model.CheckHTTPS, "sni", value.Other("function"), "sni must be a string, got function"},
		{model.CheckUDP, "payload", 1.0, "payload must be a string, got number"},
		{model.CheckDNS, "name", "a..b", `name "a..b" is not a domain name`},
		{model.CheckDNS, "name", "", `dns check needs name = "..."`},
		{model.CheckDNS, "name", "a\x00b", `name "a\x00b" has a control character (U+0000)`},
		{model.CheckDNS, "answer", "198.18.0.1\n", `answer "198.18.0.1\n" has a control character (U+000A)`},
		{model.CheckDNS, "type", "AAA", `type "AAA" is not a DNS record type luvs checks`},
		{model.CheckDNS, "rcode", "OK", `rcode "OK" is unknown`},
		{model.CheckExec, "argv", "/bin/check -q", "argv must be a list of strings (no shell), got string"},
		{model.CheckExec, "argv", []any{}, "argv is empty"},
		{model.CheckExec, "argv", []any{"/bin/check", 25.0}, "argv[2] must be a string, got number"},
		{model.CheckExec, "argv", []any{""}, "argv[1] is empty; give the program to run"},
		{model.CheckExec, "argv", []any{"/bin/check", "a\x00b"}, `argv[2] "a\x00b" has a NUL byte`},
		{model.CheckExec, "dynamic_weight", 1.0, "dynamic_weight must be true or false, got number"},
	} {
		src := MapSource{tc.key: tc.v}
		for k, v := range required[tc.kind] {
			if k != tc.key {
				src[k] = v
			}
		}
		_, err := Decode(tc.kind, src)
		var ps Problems
		if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Key != tc.key || !strings.Contains(ps[0].Msg, tc.want) {
			t.Errorf("%s %s = %#v: got %#v, want one problem of %s with %q", tc.kind, tc.key, tc.v, err, tc.key, tc.want)
		}
	}
	// A whole-check problem names no key.
	_, err := Decode(model.CheckTCP, MapSource{"interval": "1s", "timeout": "2s"})
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Key != "" || ps[0].Msg != "tcp check: timeout 2s is longer than interval 1s" {
		t.Errorf("timeout > interval: %#v", err)
	}
	if _, err := Decode("imap", MapSource{}); err == nil || err.Error() != `check: unknown kind "imap"` {
		t.Errorf("unknown kind: %v", err)
	}
}

// Inherited keys are looked up with inherit set, the others without.
func TestDecodeInheritance(t *testing.T) {
	src := inheritSource{own: MapSource{}, outer: MapSource{"rise": 4.0, "port": 8080.0}}
	c, err := Decode(model.CheckTCP, src)
	if err != nil || c.Rise != 4 || c.Port != 0 {
		t.Errorf("rise %d, port %d, %v", c.Rise, c.Port, err)
	}
}

type inheritSource struct{ own, outer MapSource }

func (s inheritSource) Lookup(key string, inherit bool) any {
	if v := s.own[key]; v != nil || !inherit {
		return v
	}
	return s.outer[key]
}

func TestSettingsShown(t *testing.T) {
	c, err := Decode(model.CheckHTTP, MapSource{"path": "/healthz", "interval": "2s", "status": []any{200.0, "300-302"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range Settings(c) {
		got = append(got, f.String())
	}
	if s := strings.Join(got, " "); s != `interval="2s" path="/healthz" status={ "200", "300-302" }` {
		t.Errorf("Settings: %s", s)
	}
	// A check built in Go, with zero settings, shows none.
	if fs := Settings(model.Check{Kind: model.CheckHTTPS}); len(fs) != 0 {
		t.Errorf("zero check: %v", fs)
	}
}
