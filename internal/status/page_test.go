package status

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

var testStates = []string{"up", "down", "unknown", "drain", "maint", "leaving", "slow_start", "removed", "sorry", "lua_changed"}

func sample() Status {
	return Status{
		Version: "v1.2.3", Config: "/etc/luvs/web.lua", PID: 42,
		LastReload: &ReloadStatus{At: "2026-12-02T10:00:00Z", Trigger: "SIGHUP",
			Error: "/etc/luvs/web.lua:12:5: unknown key \"pasword\" (value \"s3cret\")"},
		Overrides: []string{"drain 198.18.1.3 (since 2026-12-02T09:00:00Z)"},
		Services: []ServiceStatus{
			{Service: "TCP 198.18.0.10:80", Name: "web", State: ServiceNormal, Scheduler: "wrr", Active: 7, Inactive: 2,
				Rates: Rates{Connections: 12, InBytes: 2048, OutBytes: 3 << 20},
				Servers: []ServerStatus{
					{Server: "198.18.1.1:80", Name: "web1", Weight: 3, KernelWeight: 3, State: "up", Up: true, Active: 5, Inactive: 1,
						Rates:  Rates{Connections: 9, InBytes: 1500, OutBytes: 900},
						Checks: []CheckStatus{{Kind: "http", Target: "198.18.1.1:80", State: "up", LastAt: "2026-12-02T10:00:01Z", LastOK: true, LastMessage: "HTTP 200 OK", LastTookMS: 1.25}}},
					{Server: "198.18.1.2:80", Name: "<script>alert(1)</script>", Weight: 3, KernelWeight: 0, State: "down",
						Reason: "http check: connection refused",
						Checks: []CheckStatus{{Kind: "http", Target: "198.18.1.2:80", State: "down", LastAt: "2026-12-02T10:00:01Z", LastMessage: "dial: connection refused", LastTookMS: 0.4}}},
					{Server: "198.18.1.3:80", Weight: 1, KernelWeight: 0, State: "drain", Overrides: []string{"drain"}},
				}},
			{Service: "UDP 198.18.0.11:53", Name: "dns", State: ServiceQuorumLost, Servers: []ServerStatus{
				{Server: "198.18.1.4:53", Weight: 1, KernelWeight: -1, State: "maint"},
			}},
		},
	}
}

func get(t *testing.T, h http.Handler, url string) (string, *http.Response) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, b)
	}
	return string(b), res
}

func TestPage(t *testing.T) {
	st := sample()
	h := Handler(func() Status { return st }, testStates)
	body, res := get(t, h, "/")
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type %q", ct)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="5">`,
		"luvs v1.2.3", "<code>/etc/luvs/web.lua</code>",
		"rejected at /etc/luvs/web.lua:12:5, the previous configuration runs",
		"2 services, 4 real servers",
		`<h2>TCP 198.18.0.10:80 (web)</h2>`, `<span class="st svc-quorum_lost">quorum_lost</span>`,
		"scheduler wrr", "7 active, 2 inactive connections", "12 conn/s, in 2.0 KiB/s, out 3.0 MiB/s",
		`<td>198.18.1.1:80</td><td>web1</td><td><span class="st st-up">up</span></td>`,
		`<td class="n">3 → 0</td>`, "http: ok", "1.2 ms", "http: <span class=\"bad\">failed</span>",
		"http check: connection refused", "&lt;script&gt;alert(1)&lt;/script&gt;",
		`<span class="st st-drain">drain</span>`, `<span class="st st-maint">maint</span>`,
		"drain 198.18.1.3 (since", "2 of 2 services shown",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, leak := range []string{"s3cret", "pasword", "<script>alert"} {
		if strings.Contains(body, leak) {
			t.Errorf("page shows %q", leak)
		}
	}
	if strings.Contains(body, "src=") || strings.Contains(body, "href=\"http") || strings.Contains(body, "@import") {
		t.Errorf("page refers to external assets")
	}
}

func TestPageFilter(t *testing.T) {
	st := sample()
	h := Handler(func() Status { return st }, testStates)
	for q, want := range map[string][]string{
		"down":         {"TCP 198.18.0.10:80"},
		"DNS":          {"UDP 198.18.0.11:53"},
		"198.18.1.4":   {"UDP 198.18.0.11:53"},
		"web1 up":      {"TCP 198.18.0.10:80"},
		"nothing-here": {},
		"":             {"TCP 198.18.0.10:80", "UDP 198.18.0.11:53"},
	} {
		body, _ := get(t, h, "/?q="+strings.ReplaceAll(q, " ", "+"))
		n := strings.Count(body, `<section class="svc"`)
		if n != len(want) {
			t.Errorf("q=%q: %d services shown, want %v", q, n, want)
		}
		for _, w := range want {
			if !strings.Contains(body, "<h2>"+w) {
				t.Errorf("q=%q: %s not shown", q, w)
			}
		}
		if len(want) == 0 && !strings.Contains(body, "No service matches.") {
			t.Errorf("q=%q: no 'No service matches.'", q)
		}
		if !strings.Contains(body, fmt.Sprintf("%d of 2 services shown", len(want))) {
			t.Errorf("q=%q: count line missing", q)
		}
	}
}

func TestAPIStatusIsTheStatus(t *testing.T) {
	st := sample()
	h := Handler(func() Status { return st }, testStates)
	body, res := get(t, h, "/api/v1/status")
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	var back Status
	if err := json.Unmarshal([]byte(body), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Errorf("JSON round trip differs:\n%+v\n%+v", back, st)
	}
	for _, key := range []string{`"active_connections": 7`, `"last_took_ms": 1.25`, `"kernel_weight": -1`, `"in_bytes": 2048`} {
		if !strings.Contains(body, key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	if rec.Code != 404 {
		t.Errorf("GET /nope: %d", rec.Code)
	}
}

// A thousand services render, and a filter narrows them to one.
func TestPageThousandServices(t *testing.T) {
	st := Status{Version: "dev", Config: "/x.lua"}
	for i := range 1000 {
		sv := ServiceStatus{Service: fmt.Sprintf("TCP 198.18.%d.%d:80", i/250, i%250), State: ServiceNormal}
		for j := range 10 {
			sv.Servers = append(sv.Servers, ServerStatus{Server: fmt.Sprintf("198.19.%d.%d:80", i%250, j), State: "up", Weight: 1, KernelWeight: 1})
		}
		st.Services = append(st.Services, sv)
	}
	h := Handler(func() Status { return st }, testStates)
	body, _ := get(t, h, "/")
	if n := strings.Count(body, "<tr class=\"s-up\">"); n != 10000 {
		t.Errorf("%d server rows, want 10000", n)
	}
	t.Logf("page of 1,000 × 10: %d KiB", len(body)>>10)
	body, _ = get(t, h, "/?q=198.18.3.249:80")
	if n := strings.Count(body, `<section class="svc"`); n != 1 {
		t.Errorf("filter: %d services", n)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestPageBGP: the page shows the BGP peers and each prefix, announced or
// withdrawn with why; without bgp, no such section.
func TestPageBGP(t *testing.T) {
	st := sample()
	if body, _ := get(t, Handler(func() Status { return st }, testStates), "/"); strings.Contains(body, `id="bgp"`) {
		t.Error("a BGP section without bgp")
	}
	st.BGP = &BGPStatus{ASN: 65001, RouterID: "198.18.10.1",
		Peers: []PeerStatus{{Address: "198.18.10.254", ASN: 65000, State: "established", BFD: "up"}, {Address: "198.18.10.253", ASN: 65000, State: "active", Reason: "hold timer expired"}},
		Announcements: []AnnouncementStatus{{Prefix: "198.18.0.10/32", Announced: true, Services: []string{"TCP 198.18.0.10:80"}},
			{Prefix: "198.18.0.11/32", Services: []string{"TCP 198.18.0.11:80"}, Reason: "TCP 198.18.0.11:80: quorum lost"}}}
	body, _ := get(t, Handler(func() Status { return st }, testStates), "/")
	for _, want := range []string{
		"BGP: AS 65001, router id 198.18.10.1",
		`<td>198.18.10.254</td><td class="n">65000</td><td><span class="st st-up">established</span></td>`,
		`<span class="st st-down">active</span>`, "hold timer expired",
		`<td>198.18.0.10/32</td><td><span class="st st-up">yes</span></td><td>TCP 198.18.0.10:80</td>`,
		`<span class="st st-down">withdrawn</span>`, "TCP 198.18.0.11:80: quorum lost",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	text := st.Text()
	for _, want := range []string{"bgp: AS 65001, router id 198.18.10.1", "198.18.10.253", "hold timer expired", "198.18.0.11/32", "quorum lost"} {
		if !strings.Contains(text, want) {
			t.Errorf("luvs status text lacks %q:\n%s", want, text)
		}
	}
}

// TestPageVRRP: the page shows each virtual router's state, priority
// (configured → in effect) and master.
func TestPageVRRP(t *testing.T) {
	st := sample()
	st.VRRP = []VRRPStatus{{Name: "VI_1", Interface: "eth0", VRID: 51, State: "master", Priority: 90, Base: 150,
		Master: "198.18.100.11", Reason: "master down timer expired", Addresses: []string{"198.18.100.100/32"}}}
	body, _ := get(t, Handler(func() Status { return st }, testStates), "/")
	for _, want := range []string{`<section id="vrrp">`, "<td>VI_1</td><td>eth0</td>", `<span class="st st-up">master</span>`,
		"150 → 90", "<td>198.18.100.11</td>", "198.18.100.100/32", "master down timer expired"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
