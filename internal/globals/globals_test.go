package globals_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/fakeipvs"
	"github.com/luvs-lb/luvs/internal/globals"
	"github.com/luvs-lb/luvs/internal/model"
)

func TestApplyChangesOnlyWhatDiffers(t *testing.T) {
	k := fakeipvs.New()
	master := model.SyncDaemon{State: model.SyncMaster, Interface: "eth0", SyncID: 7}
	cfg := &model.Config{Timeouts: &model.Timeouts{TCP: 600}, SyncDaemons: []model.SyncDaemon{master}}

	// Dry run: planned, nothing changed.
	planned, err := globals.Apply(k, cfg, nil, true)
	if err != nil || len(planned) != 2 || k.GlobalChanges() != 0 {
		t.Fatalf("dry run: %q, %v, %d changes in the kernel", planned, err, k.GlobalChanges())
	}
	changes, err := globals.Apply(k, cfg, nil, false)
	if err != nil || len(changes) != 2 {
		t.Fatalf("first apply: %q, %v", changes, err)
	}
	if !strings.Contains(string(changes[0]), "set timeouts tcp 600s (were tcp 900s") {
		t.Errorf("timeouts change %q", changes[0])
	}
	tm, _ := k.Timeouts()
	if tm != (model.Timeouts{TCP: 600, TCPFin: 120, UDP: 300}) {
		t.Errorf("timeouts %+v: only tcp should have changed", tm)
	}
	// Again: the kernel reports its defaults for what was left unset
	// (maxlen, port, ttl); that matches, so nothing changes.
	if changes, err := globals.Apply(k, cfg, nil, false); err != nil || len(changes) != 0 {
		t.Fatalf("second apply changed %q, %v", changes, err)
	}
	// Other settings: restarted.
	cfg.SyncDaemons[0].Port = 9000
	changes, err = globals.Apply(k, cfg, nil, false)
	if err != nil || len(changes) != 1 || !strings.HasPrefix(string(changes[0]), "restart master sync daemon") {
		t.Fatalf("changed port: %q, %v", changes, err)
	}
	ds, _ := k.Daemons()
	if len(ds) != 1 || ds[0].Port != 9000 {
		t.Fatalf("daemons %+v", ds)
	}
	// A role no longer declared is stopped only when asked (a reload).
	none := &model.Config{}
	if changes, _ := globals.Apply(k, none, nil, false); len(changes) != 0 {
		t.Fatalf("apply without the daemon changed %q", changes)
	}
	changes, err = globals.Apply(k, none, globals.Roles(cfg), false)
	if err != nil || len(changes) != 1 || !strings.HasPrefix(string(changes[0]), "stop master") {
		t.Fatalf("stop: %q, %v", changes, err)
	}
	if ds, _ := k.Daemons(); len(ds) != 0 {
		t.Fatalf("daemons still running: %+v", ds)
	}
}

func TestMatches(t *testing.T) {
	running := model.SyncDaemon{State: model.SyncBackup, Interface: "eth1", SyncID: 3, MaxLen: 1472,
		Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}
	for _, tc := range []struct {
		want model.SyncDaemon
		ok   bool
	}{
		{model.SyncDaemon{State: model.SyncBackup, Interface: "eth1", SyncID: 3}, true},
		{model.SyncDaemon{State: model.SyncBackup, Interface: "eth1", SyncID: 3, TTL: 1, Port: 8848}, true},
		{model.SyncDaemon{State: model.SyncBackup, Interface: "eth1", SyncID: 4}, false},
		{model.SyncDaemon{State: model.SyncBackup, Interface: "eth2", SyncID: 3}, false},
		{model.SyncDaemon{State: model.SyncBackup, Interface: "eth1", SyncID: 3, Group: netip.MustParseAddr("239.1.1.1")}, false},
		{model.SyncDaemon{State: model.SyncMaster, Interface: "eth1", SyncID: 3}, false},
	} {
		if got := globals.Matches(running, tc.want); got != tc.ok {
			t.Errorf("Matches(%v) = %v, want %v", tc.want, got, tc.ok)
		}
	}
}

// sysPlane is the fake kernel with a /proc/sys of its own.
type sysPlane struct {
	*fakeipvs.Kernel
	globals.ProcSys
}

func TestApplySysctls(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "net/ipv4/vs"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "net/ipv4/vs/sloppy_tcp"), []byte("0\n"), 0o644)
	os.WriteFile(filepath.Join(root, "net/ipv4/vs/conn_reuse_mode"), []byte("1\n"), 0o644)
	p := sysPlane{fakeipvs.New(), globals.ProcSys{Root: root}}
	cfg := &model.Config{Sysctls: []model.Sysctl{
		{Key: "net.ipv4.vs.sloppy_tcp", Value: "1", Where: "ecmp = true at lb.lua:3:3"},
		{Key: "net.ipv4.vs.conn_reuse_mode", Value: "1", Where: "lb.lua:1:10"},
	}}
	changes, err := globals.Apply(p, cfg, nil, false)
	if err != nil || len(changes) != 1 || string(changes[0]) != "set net.ipv4.vs.sloppy_tcp = 1 (was 0; ecmp = true at lb.lua:3:3)" {
		t.Fatalf("changes %q, %v", changes, err)
	}
	if v, _ := p.Sysctl("net.ipv4.vs.sloppy_tcp"); v != "1" {
		t.Errorf("sloppy_tcp is %q after the apply", v)
	}
	if changes, err := globals.Apply(p, cfg, nil, false); err != nil || len(changes) != 0 {
		t.Errorf("second apply: %q, %v", changes, err)
	}
	cfg.Sysctls = append(cfg.Sysctls, model.Sysctl{Key: "net.ipv4.vs.no_such_setting", Value: "1", Where: "lb.lua:9:1"})
	if _, err := globals.Apply(p, cfg, nil, false); err == nil || !strings.Contains(err.Error(), "net.ipv4.vs.no_such_setting") || !strings.Contains(err.Error(), "lb.lua:9:1") {
		t.Errorf("a setting the kernel lacks: %v", err)
	}
}
