package daemon

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/status"
)

func serverCmd(t *testing.T, d *Daemon, r ServerRequest) (string, error) {
	t.Helper()
	cmd, err := r.Command()
	if err != nil {
		t.Fatal(err)
	}
	return d.handle(context.Background(), cmd)
}

func statusOf(t *testing.T, d *Daemon) status.Status {
	t.Helper()
	out, err := d.handle(context.Background(), "status")
	if err != nil {
		t.Fatal(err)
	}
	var st status.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return st
}

func serverState(st status.Status, service, server string) (status.ServerStatus, bool) {
	for _, s := range st.Services {
		if s.Service != service {
			continue
		}
		for _, v := range s.Servers {
			if v.Server == server {
				return v, true
			}
		}
	}
	return status.ServerStatus{}, false
}

// `luvs server` commands over the control socket take effect, show in the
// status, are logged, and survive a restart of the daemon (the state
// directory) until cleared.
func TestServerCommands(t *testing.T) {
	l := newLab(t)
	l.write(config("198.18.0.1:80", "198.18.0.2:80"))
	d, stop := l.start(l.options())
	s1, s2 := svc("198.18.0.1:80"), svc("198.18.0.2:80")
	d1 := model.DestKey{Addr: netip.MustParseAddr("198.18.1.1"), Port: 80}
	out, err := serverCmd(t, d, ServerRequest{Action: "drain", Server: "198.18.1.1"})
	if err != nil || strings.Count(out, "weight 3 → 0") != 2 {
		t.Fatalf("drain: %v\n%s", err, out)
	}
	waitFor(t, "drained in both services", func() bool { return l.kernel.Weight(s1, d1) == 0 && l.kernel.Weight(s2, d1) == 0 })
	if !strings.Contains(l.logs.String(), "operator override") {
		t.Errorf("not logged:\n%s", l.logs.String())
	}
	if _, err := serverCmd(t, d, ServerRequest{Action: "weight", Server: "198.18.1.2:80", Service: "198.18.0.2:80", Weight: "5"}); err != nil {
		t.Fatal(err)
	}
	d2 := model.DestKey{Addr: netip.MustParseAddr("198.18.1.2"), Port: 80}
	waitFor(t, "weight 5", func() bool { return l.kernel.Weight(s2, d2) == 5 })
	st := statusOf(t, d)
	if v, ok := serverState(st, "TCP 198.18.0.1:80", "198.18.1.1:80"); !ok || v.State != "drain" || v.Weight != 3 || v.KernelWeight != 0 || len(v.Overrides) != 1 {
		t.Errorf("status of the drained server: %+v", v)
	}
	if v, _ := serverState(st, "TCP 198.18.0.2:80", "198.18.1.2:80"); v.Weight != 3 || v.KernelWeight != 5 {
		t.Errorf("status of the re-weighted server: %+v", v)
	}
	if len(st.Overrides) != 2 {
		t.Errorf("overrides in status: %v", st.Overrides)
	}

	// A restart keeps them.
	stop()
	d, _ = l.start(l.options())
	waitFor(t, "still drained after a restart", func() bool { return l.kernel.Weight(s1, d1) == 0 && l.kernel.Weight(s2, d2) == 5 })
	if st := statusOf(t, d); len(st.Overrides) != 2 {
		t.Errorf("overrides after a restart: %v", st.Overrides)
	}
	if _, err := serverCmd(t, d, ServerRequest{Action: "ready", Server: "198.18.1.1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := serverCmd(t, d, ServerRequest{Action: "weight", Server: "198.18.1.2:80", Service: "198.18.0.2:80", Weight: "reset"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "back to normal", func() bool { return l.kernel.Weight(s1, d1) == 3 && l.kernel.Weight(s2, d2) == 3 })

	for _, bad := range []ServerRequest{
		{Action: "drain", Server: "198.18.9.9"},
		{Action: "explode", Server: "198.18.1.1"},
		{Action: "weight", Server: "198.18.1.1", Weight: "70000"},
		{Action: "add", Server: "198.18.1.9:80"},
		{Action: "add", Server: "198.18.1.9:80", Service: "198.18.0.9:80"},
		{Action: "drain", Server: "web1"},
	} {
		if out, err := serverCmd(t, d, bad); err == nil {
			t.Errorf("%+v accepted: %s", bad, out)
		}
	}
	if _, err := d.handle(context.Background(), `server {"action":"drain","server":"198.18.1.1","bogus":1}`); err == nil {
		t.Error("an unknown field is accepted")
	}
}

// A server removed with connections open is drained, and a restart in the
// middle of the drain goes on with it (leaving.json) instead of deleting it.
func TestRestartDuringGracefulRemoval(t *testing.T) {
	l := newLab(t)
	l.write(strings.Replace(config("198.18.0.1:80"), `scheduler = "wrr",`, `scheduler = "wrr", drain_timeout = "1m",`, 1))
	d, stop := l.start(l.options())
	s1, d1 := svc("198.18.0.1:80"), dest("198.18.1.1:80")
	l.kernel.SetConns(s1, d1, model.ConnCount{Active: 1})
	if _, err := serverCmd(t, d, ServerRequest{Action: "remove", Server: "198.18.1.1:80"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "draining", func() bool { return l.kernel.Weight(s1, d1) == 0 })
	waitFor(t, "recorded", func() bool {
		b, _ := os.ReadFile(filepath.Join(l.state, "leaving.json"))
		return strings.Contains(string(b), `"server": "198.18.1.1:80"`)
	})
	stop()
	d, _ = l.start(l.options())
	time.Sleep(300 * time.Millisecond)
	if w := l.kernel.Weight(s1, d1); w != 0 {
		t.Fatalf("weight %d after the restart, want 0: still draining", w)
	}
	if v, ok := serverState(statusOf(t, d), "TCP 198.18.0.1:80", "198.18.1.1:80"); !ok || v.State != "leaving" {
		t.Errorf("status after the restart: %+v", v)
	}
	l.kernel.SetConns(s1, d1, model.ConnCount{})
	waitFor(t, "deleted once drained", func() bool { return l.kernel.Weight(s1, d1) == -1 })
}

// reload --dry-run describes the changes without making them, and reports
// a broken file as a reload would.
func TestReloadDryRun(t *testing.T) {
	l := newLab(t)
	l.write(config("198.18.0.1:80"))
	d, _ := l.start(l.options())
	waitFor(t, "the service", func() bool {
		return l.kernel.Weight(svc("198.18.0.1:80"), model.DestKey{Addr: netip.MustParseAddr("198.18.1.2"), Port: 80}) == 3
	})
	before := l.kernel.Snapshot()
	l.write(strings.Replace(config("198.18.0.1:80", "198.18.0.2:80"), `real_server "198.18.1.2:80" { weight = 3 }`, `real_server "198.18.1.2:80" { weight = 5 }`, 1))
	out, err := d.handle(context.Background(), "reload --dry-run")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"add service TCP 198.18.0.2:80", "edit dest 198.18.1.2:80 of TCP 198.18.0.1:80", "add dest 198.18.1.1:80 to TCP 198.18.0.2:80"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run does not say %q:\n%s", want, out)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if ops := diff.Plan(before, l.kernel.Snapshot(), diff.Options{}); len(ops) != 0 {
		t.Errorf("the dry run changed the table: %v", ops)
	}
	l.write(`virtual_server "198.18.0.1:80" { real_server "198.18.1.1:80" { wieght = 1 } }`)
	if _, err := d.handle(context.Background(), "reload --dry-run"); err == nil || !strings.Contains(err.Error(), "wieght") {
		t.Errorf("a broken file: %v", err)
	}
}

// A server can be named by its `name`: the override is stored by its
// address; an unknown or ambiguous name is refused with the names known.
func TestServerCommandByName(t *testing.T) {
	l := newLab(t)
	l.write(`defaults { scheduler = "wrr", check = tcp { interval = "100ms", timeout = "50ms", rise = 1, fall = 1 } }
virtual_server "198.18.0.1:80" {
  real_server "198.18.1.1:80" { name = "web1", weight = 3 },
  real_server "198.18.1.2:80" { name = "web2", weight = 3 },
}
virtual_server "198.18.0.2:80" {
  real_server "198.18.1.1:80" { name = "web1", weight = 3 },
  real_server "198.18.1.3:80" { name = "web2", weight = 3 },
}
`)
	d, _ := l.start(l.options())
	s1, s2 := svc("198.18.0.1:80"), svc("198.18.0.2:80")
	out, err := serverCmd(t, d, ServerRequest{Action: "drain", Server: "web1"})
	if err != nil || strings.Count(out, "drain web1 (198.18.1.1:80) in") != 2 {
		t.Fatalf("drain web1: %v\n%s", err, out)
	}
	waitFor(t, "web1 drained in both services", func() bool {
		return l.kernel.Weight(s1, dest("198.18.1.1:80")) == 0 && l.kernel.Weight(s2, dest("198.18.1.1:80")) == 0
	})
	if st := statusOf(t, d); len(st.Overrides) != 1 || !strings.Contains(st.Overrides[0], "198.18.1.1:80") {
		t.Errorf("the override is not stored by address: %v", st.Overrides)
	}
	if _, err := serverCmd(t, d, ServerRequest{Action: "drain", Server: "web2"}); err == nil ||
		!strings.Contains(err.Error(), "198.18.1.2:80 and 198.18.1.3:80") {
		t.Errorf("an ambiguous name: %v", err)
	}
	if _, err := serverCmd(t, d, ServerRequest{Action: "weight", Server: "web2", Service: "198.18.0.2:80", Weight: "50%"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web2 of the second service at half weight", func() bool { return l.kernel.Weight(s2, dest("198.18.1.3:80")) == 2 })
	if !strings.Contains(l.logs.String(), `op="edit dest 198.18.1.3:80 of TCP 198.18.0.2:80" why=operator`) {
		t.Errorf("the override's change is not logged as the operator's:\n%s", l.logs.String())
	}
	if w := l.kernel.Weight(s1, dest("198.18.1.2:80")); w != 3 {
		t.Errorf("web2 of the first service changed too: weight %d", w)
	}
	_, err = serverCmd(t, d, ServerRequest{Action: "maint", Server: "web9"})
	if err == nil || !strings.Contains(err.Error(), "(web1, web2)") {
		t.Errorf("an unknown name: %v", err)
	}
	if _, err := serverCmd(t, d, ServerRequest{Action: "ready", Server: "web1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web1 back", func() bool { return l.kernel.Weight(s1, dest("198.18.1.1:80")) == 3 })
}
