package check

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

func TestTargetFor(t *testing.T) {
	rs := netip.MustParseAddr("198.18.0.10")
	for _, tc := range []struct {
		name string
		c    model.Check
		addr netip.Addr
		want Target
	}{
		{"none", model.Check{}, rs, Target{Addr: rs, Port: 80}},
		{"port", model.Check{Port: 8080}, rs, Target{Addr: rs, Port: 8080}},
		{"addr", model.Check{Addr: netip.MustParseAddr("2001:db8::5")}, rs, Target{Addr: netip.MustParseAddr("2001:db8::5"), Port: 80}},
		{"both", model.Check{Addr: netip.MustParseAddr("198.18.0.20"), Port: 53}, rs, Target{Addr: netip.MustParseAddr("198.18.0.20"), Port: 53}},
		{"unmap", model.Check{}, netip.MustParseAddr("::ffff:198.18.0.10"), Target{Addr: rs, Port: 80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TargetFor(tc.c, tc.addr, 80); got != tc.want {
				t.Errorf("TargetFor = %v, want %v", got, tc.want)
			}
		})
	}
	if s := (Target{Addr: netip.MustParseAddr("2001:db8::1"), Port: 443}).String(); s != "[2001:db8::1]:443" {
		t.Errorf("IPv6 target string %q", s)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		c    model.Check
		want string
	}{
		{model.Check{}, "no kind"},
		{model.Check{Kind: "imap"}, "unknown kind"},
		{model.Check{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Body: "ok("}}, "body: invalid regular expression"},
		{model.Check{Kind: model.CheckHTTPS, HTTP: &model.HTTPCheck{Digest: "abc"}}, "digest must be 32 hex digits"},
		{model.Check{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Status: []model.StatusRange{{Lo: 300, Hi: 200}}}}, `status: "300-200" is backwards`},
		{model.Check{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Status: []model.StatusRange{{Lo: 200, Hi: 999}}}}, `status: "200-999" is outside 100-599`},
		{model.Check{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Path: "healthz"}}, "path must start with /"},
		{model.Check{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Method: "GE T"}}, `method "GE T" is not an HTTP method`},
		{model.Check{Kind: model.CheckDNS, DNS: &model.DNSCheck{Name: "example.test", Type: "BOGUS"}}, `type "BOGUS" is not a DNS record type`},
		{model.Check{Kind: model.CheckDNS}, "dns check needs name"},
		{model.Check{Kind: model.CheckDNS, DNS: &model.DNSCheck{Name: "example.test", Rcode: "MAYBE"}}, `rcode "MAYBE" is unknown`},
		{model.Check{Kind: model.CheckExec}, "exec check needs argv"},
		{model.Check{Kind: model.CheckExec, Exec: &model.ExecCheck{Argv: []string{}}}, "argv is empty"},
		{model.Check{Kind: model.CheckExec, Exec: &model.ExecCheck{Argv: []string{""}}}, "argv[1] is empty"},
		{model.Check{Kind: model.CheckTCP, Interval: time.Second, Timeout: 2 * time.Second}, "tcp check: timeout 2s is longer than interval 1s"},
	} {
		_, err := New(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tc.c, err, tc.want)
		}
	}
	for _, c := range []model.Check{
		{Kind: model.CheckTCP},
		{Kind: model.CheckHTTP},
		{Kind: model.CheckHTTPS},
		{Kind: model.CheckUDP},
		{Kind: model.CheckDNS, DNS: &model.DNSCheck{Name: "example.test"}},
		{Kind: model.CheckPing},
		{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Digest: "D41D8CD98F00B204E9800998ECF8427E", Path: "/status?full=1"}},
		{Kind: model.CheckDNS, DNS: &model.DNSCheck{Name: "example.test", Type: "aaaa", Rcode: "nxdomain"}},
	} {
		if _, err := New(c); err != nil {
			t.Errorf("New(%+v): %v", c, err)
		}
	}
}

func TestCapMsg(t *testing.T) {
	if got := capMsg("first\nsecond"); got != "first" {
		t.Errorf("capMsg kept %q", got)
	}
	long := capMsg(strings.Repeat("é", 300))
	if len(long) > maxMsg || !strings.HasSuffix(long, "…") || !strings.HasPrefix(long, "é") {
		t.Errorf("capMsg of a long message: %d bytes %q", len(long), long)
	}
}

// A probe without a deadline gets the check's Timeout.
func TestDefaultDeadline(t *testing.T) {
	needNet(t)
	c := mustNew(t, model.Check{Kind: model.CheckTCP, Timeout: 200 * time.Millisecond})
	start := time.Now()
	r := c.Probe(context.Background(), Target{Addr: blackhole, Port: 80})
	if took := time.Since(start); took < 200*time.Millisecond || took > 200*time.Millisecond+slack {
		t.Errorf("probe without a deadline took %v, want the check's 200ms timeout", took)
	}
	wantDown(t, r, "timeout after 200ms")
}

// A cancelled context stops a probe at once.
func TestCancel(t *testing.T) {
	needNet(t)
	c := mustNew(t, model.Check{Kind: model.CheckTCP})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := c.Probe(ctx, Target{Addr: blackhole, Port: 80})
	if took := time.Since(start); took > 100*time.Millisecond+slack {
		t.Errorf("cancelled probe took %v", took)
	}
	wantDown(t, r, "canceled")

	r = c.Probe(ctx, Target{Addr: addr1, Port: 80})
	wantDown(t, r, "canceled")
	r = c.Probe(context.Background(), Target{})
	wantDown(t, r, "no target address")
}
