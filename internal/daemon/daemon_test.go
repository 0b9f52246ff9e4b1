package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/fakeipvs"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/poll"
	"github.com/luvs-lb/luvs/internal/statedir"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// probes answers by address: listed addresses are down.
type probes struct {
	mu   sync.Mutex
	down map[string]bool
}

func (p *probes) set(addr string, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down[addr] = down
}

func (p *probes) factory(model.Check) (engine.Prober, error) { return p, nil }

func (p *probes) Probe(ctx context.Context, addr netip.Addr, port uint16) engine.ProbeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down[addr.String()] {
		return engine.ProbeResult{Weight: -1, Msg: "connection refused"}
	}
	return engine.ProbeResult{OK: true, Weight: -1}
}

// lab is a config file, a state directory and a fake kernel shared by the
// daemons a test starts (as restarts on one host share them).
type lab struct {
	t      *testing.T
	dir    string
	config string
	state  string
	kernel *fakeipvs.Kernel
	probes *probes
	logs   *testlog.Buffer
}

func newLab(t *testing.T) *lab {
	dir := t.TempDir()
	l := &lab{t: t, dir: dir, config: filepath.Join(dir, "luvs.lua"), state: filepath.Join(dir, "state"),
		kernel: fakeipvs.New(), probes: &probes{down: map[string]bool{}}, logs: &testlog.Buffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon logs:\n%s", l.logs.String())
		}
	})
	return l
}

func (l *lab) write(src string) {
	l.t.Helper()
	if err := os.WriteFile(l.config, []byte(src), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) options() Options {
	return Options{ConfigPath: l.config, StateDir: l.state, Logger: slog.New(slog.NewTextHandler(l.logs, nil)),
		OpenKernel: func() (Kernel, error) { return l.kernel, nil }, Probers: l.probes.factory, LuaOutput: io.Discard}
}

// start starts a daemon and returns it with its stop function.
func (l *lab) start(o Options) (*Daemon, func()) {
	l.t.Helper()
	d, err := Start(o)
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	l.t.Cleanup(stop)
	waitFor(l.t, "engine running", func() bool { return d.Engine().Stats().Reconciles > 0 })
	return d, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, what, 5*time.Second, cond)
}

func config(services ...string) string {
	var b strings.Builder
	b.WriteString(`defaults { scheduler = "wrr", check = tcp { interval = "100ms", timeout = "50ms", rise = 1, fall = 1 } }` + "\n")
	for _, s := range services {
		fmt.Fprintf(&b, "virtual_server %q { real_server \"198.18.1.1:80\" { weight = 3 }, real_server \"198.18.1.2:80\" { weight = 3 } }\n", s)
	}
	return b.String()
}

func svc(s string) model.ServiceKey {
	k, err := model.ParseServiceKey(s)
	if err != nil {
		panic(err)
	}
	return k
}

func dest(s string) model.DestKey {
	ap := netip.MustParseAddrPort(s)
	return model.DestKey{Addr: ap.Addr(), Port: ap.Port()}
}

func TestSecondDaemonRefused(t *testing.T) {
	l := newLab(t)
	l.write(config("198.18.0.1:80"))
	l.start(l.options())
	reads := l.kernel.Reads()
	start := time.Now()
	_, err := Start(l.options())
	var held *statedir.HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("second daemon: %v, want a HeldError naming pid %d", err, os.Getpid())
	}
	if time.Since(start) > 5*time.Second || l.kernel.Reads() != reads {
		t.Errorf("second daemon took %s and read the kernel %d times", time.Since(start), l.kernel.Reads()-reads)
	}
	// Another network namespace's state (another directory) is not blocked.
	o := l.options()
	o.StateDir = filepath.Join(l.dir, "other")
	o.OpenKernel = func() (Kernel, error) { return fakeipvs.New(), nil }
	l.start(o)
}

func TestBadFlagsFailFast(t *testing.T) {
	l := newLab(t)
	l.write(config("198.18.0.1:80"))
	for _, o := range []func(*Options){
		func(o *Options) { o.MetricsAddr = "127.0.0.1" },
		func(o *Options) { o.RepairInterval = -time.Second },
	} {
		opts := l.options()
		o(&opts)
		_, err := Start(opts)
		var in *InputError
		if !errors.As(err, &in) {
			t.Errorf("Start = %v, want an InputError", err)
		}
	}
	if l.kernel.Reads() != 0 {
		t.Error("a bad flag reached the kernel")
	}
	l.write("virtual_server \"198.18.0.1:80\" {\n")
	_, err := Start(l.options())
	var in *InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "never closed") {
		t.Errorf("broken config: %v", err)
	}
	l.write(config("198.18.0.1:80"))
	l.start(l.options()) // the lock was released after each failure
}

// TestRestartDeletesWhatTheFileDropped: stop, drop a service from the
// file, start: the dropped service is deleted; a foreign one stays.
func TestRestartDeletesWhatTheFileDropped(t *testing.T) {
	l := newLab(t)
	foreign := svc("198.18.9.9:80")
	l.kernel.Apply([]model.Op{{Kind: model.AddService, Service: &model.Service{ServiceKey: foreign, Scheduler: "rr"}}})
	l.write(config("198.18.0.1:80", "198.18.0.2:80"))
	_, stop := l.start(l.options())
	waitFor(t, "applied", func() bool { return len(l.kernel.Snapshot().Services) == 3 })
	stop()
	l.write(config("198.18.0.1:80"))
	l.start(l.options())
	waitFor(t, "dropped service deleted", func() bool { return l.kernel.Weight(svc("198.18.0.2:80"), model.DestKey{}) == -2 })
	if l.kernel.Weight(foreign, model.DestKey{}) != -1 {
		t.Error("a service luvs never managed was deleted")
	}
	if !strings.Contains(l.logs.String(), "deleted a service an earlier run managed") {
		t.Error("the deletion of a stray was not logged")
	}
}

// TestReloadsKeepDrainedServerDrained: SIGHUP-style reloads of the same
// file, a broken reload and a restart never raise a dead server's weight.
func TestReloadsKeepDrainedServerDrained(t *testing.T) {
	l := newLab(t)
	l.write(config("198.18.0.1:80"))
	l.probes.set("198.18.1.1", true)
	o := l.options()
	o.Socket = filepath.Join(l.dir, "luvs.sock")
	d, stop := l.start(o)
	s, dead := svc("198.18.0.1:80"), dest("198.18.1.1:80")
	waitFor(t, "drained", func() bool { return l.kernel.Weight(s, dead) == 0 })
	var revived atomic.Bool
	l.kernel.SetHook(func(op model.Op) error {
		if op.Dest != nil && op.Dest.DestKey == dead && op.Dest.Weight > 0 {
			revived.Store(true)
		}
		return nil
	})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := d.Reload(ctx, "SIGHUP"); err != nil {
			t.Fatal(err)
		}
	}
	good, _ := os.ReadFile(l.config)
	l.write(string(good) + "virtual_server \"198.18.0.2:80\" { real_server \"bad\" {} }\n")
	if err := d.Reload(ctx, "luvs reload"); err == nil || !strings.Contains(err.Error(), "luvs.lua:3:") {
		t.Errorf("broken reload: %v", err)
	}
	if st := d.Status(); st.LastReload == nil || st.LastReload.Error == "" {
		t.Errorf("status does not show the rejected reload: %+v", st.LastReload)
	}
	l.write(string(good))
	stop()
	l.start(o)
	time.Sleep(100 * time.Millisecond)
	if revived.Load() || l.kernel.Weight(s, dead) != 0 {
		t.Fatal("a reload or a restart put a dead server back into service")
	}
	l.probes.set("198.18.1.1", false)
	waitFor(t, "restored", func() bool { return l.kernel.Weight(s, dead) == 3 })
}

// TestStatusOverSocket: the control socket answers status and reload.
func TestStatusOverSocket(t *testing.T) {
	l := newLab(t)
	l.write(config("198.18.0.1:80"))
	o := l.options()
	o.Socket = filepath.Join(l.dir, "luvs.sock")
	d, _ := l.start(o)
	out, err := d.handle(context.Background(), "status")
	if err != nil || !strings.Contains(out, `"kernel_table_reads": 1`) {
		t.Errorf("status: %v\n%s", err, out)
	}
	if _, err := d.handle(context.Background(), "bogus"); err == nil {
		t.Error("unknown command accepted")
	}
}

// Warnings are logged, and do not stop the daemon.
func TestWarningsAreLogged(t *testing.T) {
	l := newLab(t)
	l.write(config("198.18.0.1:80") + "virtual_server \"198.18.0.2:80\" {}\n")
	l.start(l.options())
	if !strings.Contains(l.logs.String(), "config warning") {
		t.Errorf("no warning logged:\n%s", l.logs.String())
	}
}
