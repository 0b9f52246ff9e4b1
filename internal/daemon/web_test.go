package daemon

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/status"
)

var screenshot = flag.String("screenshot", "", "write the Chromium test's screenshot of the status page to this PNG file (e.g. ../../docs/status-page.png)")

// webLab runs the demo's configuration (examples/web.lua) on the fake
// kernel with web2 failing its check, web3 drained by an operator and
// connections on web1, and returns the web listener's base URL.
func webLab(t *testing.T) (*lab, *Daemon, string) {
	t.Helper()
	l := newLab(t)
	src, err := os.ReadFile("../../examples/web.lua")
	if err != nil {
		t.Fatal(err)
	}
	// The demo checks every 2 s; the test cannot wait that long.
	l.write(strings.NewReplacer(`interval = "2s"`, `interval = "100ms"`, `timeout = "1s"`, `timeout = "50ms"`).Replace(string(src)))
	l.probes.set("198.18.12.2", true)
	o := l.options()
	o.MetricsAddr = "127.0.0.1:0"
	o.Version = "v0.0.0-test"
	d, _ := l.start(o)
	web := svc("198.18.0.10:80")
	l.kernel.SetConns(web, dest("198.18.11.2:80"), model.ConnCount{Active: 4, Inactive: 1})
	if _, err := serverCmd(t, d, ServerRequest{Action: "drain", Server: "198.18.13.2:80"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web2 down and web3 drained", func() bool {
		return l.kernel.Weight(web, dest("198.18.12.2:80")) == 0 && l.kernel.Weight(web, dest("198.18.13.2:80")) == 0 &&
			l.kernel.Weight(web, dest("198.18.11.2:80")) == 3
	})
	waitFor(t, "every check probed", func() bool {
		for _, v := range d.Status().Services[0].Servers {
			if len(v.Checks) == 0 || v.Checks[0].LastAt == "" {
				return false
			}
		}
		return true
	})
	return l, d, "http://" + d.met.Addr().String()
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, b)
	}
	return string(b)
}

// The web listener serves the page, the JSON (the same as the control
// socket's status) and the metrics, from one address.
func TestWebListener(t *testing.T) {
	_, d, base := webLab(t)
	var api status.Status
	if err := json.Unmarshal([]byte(fetch(t, base+"/api/v1/status")), &api); err != nil {
		t.Fatal(err)
	}
	sock := statusOf(t, d)
	if len(api.Services) != 1 || len(api.Services[0].Servers) != 3 || api.Version != "v0.0.0-test" {
		t.Fatalf("api status: %+v", api)
	}
	for i, v := range api.Services[0].Servers {
		w := sock.Services[0].Servers[i]
		if v.Server != w.Server || v.State != w.State || v.KernelWeight != w.KernelWeight {
			t.Errorf("api and control socket differ: %+v vs %+v", v, w)
		}
	}
	web1, _ := serverState(api, "TCP 198.18.0.10:80", "198.18.11.2:80")
	if web1.Active != 4 || web1.Inactive != 1 || web1.State != "up" || len(web1.Checks) != 1 || web1.Checks[0].Kind != "http" || !web1.Checks[0].LastOK || web1.Checks[0].LastAt == "" {
		t.Errorf("web1: %+v", web1)
	}
	web2, _ := serverState(api, "TCP 198.18.0.10:80", "198.18.12.2:80")
	if web2.State != "down" || web2.Checks[0].LastOK || web2.Checks[0].LastMessage != "connection refused" || !strings.Contains(web2.Reason, "connection refused") {
		t.Errorf("web2: %+v", web2)
	}
	metrics := fetch(t, base+"/metrics")
	for _, want := range []string{
		`luvs_real_server_up{local_address="198.18.0.10",local_mark="",local_port="80",proto="TCP",service_name="web",remote_address="198.18.12.2",remote_port="80",name="web2"} 0`,
		`luvs_real_server_active_connections{local_address="198.18.0.10",local_mark="",local_port="80",name="web1",proto="TCP",remote_address="198.18.11.2",remote_port="80",service_name="web"} 4`,
		`luvs_check_failures_total{kind="http",reason="refused"}`,
		`luvs_check_duration_seconds_count{kind="http"}`,
		`luvs_check_duration_seconds_count{kind="tcp"}`,
		`luvs_build_info{goversion="go`,
		`luvs_config_last_reload_success_timestamp_seconds `,
	} {
		// The text format sorts labels by name.
		want = sortLabels(want)
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

var labelSet = regexp.MustCompile(`\{([^}]*)\}`)

func sortLabels(s string) string {
	return labelSet.ReplaceAllStringFunc(s, func(m string) string {
		parts := strings.Split(m[1:len(m)-1], ",")
		if strings.HasSuffix(m, `"}`) && len(parts) > 1 {
			slices.Sort(parts)
		}
		return "{" + strings.Join(parts, ",") + "}"
	})
}

// The status page as headless Chromium renders it (scripts/test requires
// Chromium, LUVS_REQUIRE_CHROMIUM=1; elsewhere the test is skipped without
// it): the demo's service with a row per server coloured by state, weights
// configured → in the kernel, connections, last checks; a filter; and no
// part of the configuration but its path.
func TestStatusPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("LUVS_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is not installed (apt-get install chromium)")
		}
		t.Skip("chromium is not installed")
	}
	l, d, base := webLab(t)
	// A rejected reload shows where, not what.
	src, _ := os.ReadFile(l.config)
	l.write(string(src) + "\nvirtual_server \"198.18.0.11:80\" { secret_password = \"hunter2\" }\n")
	if err := d.Reload(context.Background(), "SIGHUP"); err == nil {
		t.Fatal("a bad reload was applied")
	}
	profile := t.TempDir()
	render := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, append([]string{"--headless", "--no-sandbox", "--disable-gpu",
			"--user-data-dir=" + profile, "--window-size=1280,720"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+profile)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return string(out)
	}
	dom := render("--dump-dom", base+"/")
	rows := regexp.MustCompile(`<tr class="s-([a-z_]+)">\s*<td>([0-9.:]+)</td><td>([a-z0-9]*)</td>`).FindAllStringSubmatch(dom, -1)
	got := map[string]string{}
	for _, r := range rows {
		got[r[2]+" "+r[3]] = r[1]
	}
	want := map[string]string{"198.18.11.2:80 web1": "up", "198.18.12.2:80 web2": "down", "198.18.13.2:80 web3": "drain"}
	if len(got) != len(want) {
		t.Errorf("rendered rows %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("row %s: state %q, want %q (rows %v)", k, got[k], v, got)
		}
	}
	for _, s := range []string{
		"<h2>TCP 198.18.0.10:80 (web)</h2>", "scheduler wrr", "4 active, 1 inactive connections",
		`<td class="n">1 → 0</td>`, "http: ok", "http: <span class=\"bad\">failed</span>", "connection refused",
		"luvs v0.0.0-test", "<code>" + l.config + "</code>", "rejected at " + l.config + ":", "1 of 1 services shown",
		`<input type="search" id="q" name="q"`,
	} {
		if !strings.Contains(dom, s) {
			t.Errorf("rendered page lacks %q", s)
		}
	}
	if strings.Contains(dom, "hunter2") || strings.Contains(dom, "secret_password") || strings.Contains(dom, "real_server \"") {
		t.Errorf("the page shows the configuration's contents")
	}
	if dom := render("--dump-dom", base+"/?q=nothing-matches"); !strings.Contains(dom, "No service matches.") {
		t.Errorf("the filter did not filter")
	}
	if *screenshot != "" {
		path, _ := filepath.Abs(*screenshot)
		l.write(string(src)) // a clean reload for the picture
		if err := d.Reload(context.Background(), "SIGHUP"); err != nil {
			t.Fatal(err)
		}
		render("--screenshot="+path, "--hide-scrollbars", base+"/")
		t.Logf("screenshot written to %s", path)
	}
}
