package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

func TestDescribeCheck(t *testing.T) {
	for _, tc := range []struct {
		c    model.Check
		want string
	}{
		{model.Check{Kind: model.CheckTCP, Interval: model.DefaultInterval, Timeout: time.Second, Rise: 2, Fall: 3}, `tcp timeout="1s"`},
		{model.Check{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Method: "GET", Path: "/healthz"}, Port: 8080}, `http port=8080 path="/healthz"`},
		{model.Check{Kind: model.CheckDNS, DNS: &model.DNSCheck{Name: "example.test.", Type: "A"}}, `dns name="example.test."`},
		{model.Check{Kind: model.CheckExec, Exec: &model.ExecCheck{Argv: []string{"/bin/check", "-q"}}}, `exec argv={ "/bin/check", "-q" }`},
	} {
		if got := describeCheck(tc.c); got != tc.want {
			t.Errorf("describeCheck = %s, want %s", got, tc.want)
		}
	}
}

// Warnings are printed and the configuration loads; with an error they are
// listed with it, and only errors are counted.
func TestLoadConfigWarnings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.lua")
	os.WriteFile(path, []byte(`virtual_server "198.18.0.10:80" {}`), 0o644)
	var stderr bytes.Buffer
	res, err := loadConfigTo(path, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	if want := path + `:1:1: warning: virtual_server "198.18.0.10:80" has no real servers`; !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr: %q, want %s...", stderr.String(), want)
	}
	os.WriteFile(path, []byte("virtual_server \"198.18.0.10:80\" {}\nvirtual_server \"198.18.0.11:80\" { weight = -1, real_server \"198.18.1.1\" {} }"), 0o644)
	_, err = loadConfigTo(path, &stderr)
	if err == nil || !strings.Contains(err.Error(), "1 problem(s)") || !strings.Contains(err.Error(), ": warning: ") {
		t.Errorf("error: %v", err)
	}
}

// luvs check shows the hooks: a program as its argv list, a function as
// lua function (file:line); --json gives the same.
func TestCheckShowsHooks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.lua")
	os.WriteFile(path, []byte(`virtual_server "198.18.0.10:80" {
  quorum = 1,
  quorum_down = function(ev)
    log.warn("quorum lost", ev.service)
  end,
  quorum_up = { "/usr/local/bin/page", "quorum up" },
  real_server "198.18.1.1:80" { notify_down = function(ev) end, notify_up = { "/bin/up" } },
  real_server "198.18.1.2:80" {},
}`), 0o644)
	var stderr bytes.Buffer
	res, err := loadConfigTo(path, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var text, js bytes.Buffer
	printConfig(&text, res.Config)
	if err := configJSON(&js, res.Config); err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(text.String()+js.String(), path, "h.lua")
	for _, want := range []string{
		`[quorum 1, quorum_up { "/usr/local/bin/page", "quorum up" }, quorum_down lua function (h.lua:3)]`,
		`  -> 198.18.1.1:80                Masq    1      - (notify_up { "/bin/up" }) (notify_down lua function (h.lua:7))`,
		"  -> 198.18.1.2:80                Masq    1      -\n",
		`"quorum_up": [
        "/usr/local/bin/page",
        "quorum up"
      ],
      "quorum_down": "lua function (h.lua:3)",`,
		`"notify_up": [
            "/bin/up"
          ],
          "notify_down": "lua function (h.lua:7)",`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("luvs check lacks %s:\n%s", want, out)
		}
	}
	if strings.Count(out, "notify_") != 4 {
		t.Errorf("hooks shown for a server without any:\n%s", out)
	}
}

// TestCheckShowsBGP: luvs check shows the BGP speaker, its peers without
// their passwords, each service's announcement and ecmp, and the sysctls
// with why they are set.
func TestCheckShowsBGP(t *testing.T) {
	res, err := loadConfigTo(writeTemp(t, `bgp { asn = 65001, router_id = "198.18.10.1",
  peers = { { address = "198.18.10.254", asn = 65000, bfd = true, password = "very-secret" } } }
defaults { forward = "dr", ecmp = true }
virtual_server "198.18.0.10:80" { announce = { communities = { "65000:1" } }, real_server "198.18.1.1:80" {} }
`), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var text, js bytes.Buffer
	printConfig(&text, res.Config)
	if err := configJSON(&js, res.Config); err != nil {
		t.Fatal(err)
	}
	out := text.String() + js.String()
	for _, want := range []string{
		"TCP  198.18.0.10:80 mh (mh-fallback,mh-port)  [ecmp, announce 198.18.0.10/32 communities 65000:1]",
		"bgp: AS 65001, router id 198.18.10.1, shutdown delay 2s\n  peer 198.18.10.254 AS 65000 bfd 300ms/300ms x3 (password set)",
		"sysctl net.ipv4.vs.sloppy_tcp = 1 (ecmp = true at ",
		`"announce": "198.18.0.10/32 communities 65000:1"`,
		`"router_id": "198.18.10.1"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("luvs check lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "very-secret") {
		t.Errorf("luvs check shows the BGP password:\n%s", out)
	}
}

func writeTemp(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
