package luacheck

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/luaconf"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// hookLab is a configuration's runner serving the hooks of a queue.
type hookLab struct {
	t    *testing.T
	res  *luaconf.Result
	ft   *fakeTarget
	q    *HookQueue
	logs *testlog.Buffer
	stop func()
}

// startHooks loads src and runs its checks and hooks (timeout: the hooks'
// deadline) until the test ends.
func startHooks(t *testing.T, src string, timeout time.Duration) *hookLab {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hooks.lua")
	os.WriteFile(path, []byte(src), 0o644)
	res, err := luaconf.Load(path, luaconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(res.Close)
	h := &hookLab{t: t, res: res, ft: &fakeTarget{cfg: res.Config, removed: map[model.DestKey]bool{}}, logs: &testlog.Buffer{}}
	log := slog.New(slog.NewTextHandler(h.logs, nil))
	h.q = NewHookQueue(HookQueueSize, log)
	r := New(res.L, res.Config, h.ft, res.ServerFor, log)
	r.ServeHooks(h.q, res.HookFunc, timeout)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	h.stop = func() { cancel(); <-done }
	t.Cleanup(h.stop)
	return h
}

// fire queues the event kind of service i's server j (j < 0: the service's
// quorum hook) as the engine does.
func (h *hookLab) fire(kind string, i, j int, reason string) engine.Event {
	s := h.res.Config.Services[i]
	ev := engine.Event{Kind: kind, Service: s.ServiceKey, Name: s.Name, Reason: reason}
	switch {
	case j >= 0 && kind == "up":
		ev.Server, ev.Name, ev.Hook = s.Servers[j].DestKey, s.Servers[j].Name, s.Servers[j].NotifyUp
	case j >= 0:
		ev.Server, ev.Name, ev.Hook = s.Servers[j].DestKey, s.Servers[j].Name, s.Servers[j].NotifyDown
	case kind == "quorum_up":
		ev.Hook = s.QuorumUp
	default:
		ev.Hook = s.QuorumDown
	}
	h.q.Fire(ev)
	return ev
}

func (h *hookLab) waitLog(what, text string) {
	h.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(h.logs.String(), text) {
		if time.Now().After(deadline) {
			h.t.Fatalf("no %s in the logs (%q):\n%s", what, text, h.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A hook function gets the event's fields, sees the check helpers and its
// closures, and may wait in them (sleep).
func TestHookGetsTheEvent(t *testing.T) {
	h := startHooks(t, `
local label = "pager"
virtual_server "198.18.0.1:80" {
  name = "web",
  quorum_down = function(ev)
    log.warn(label, ev.event, ev.service, "server=[" .. ev.server .. "]", ev.name)
  end,
  real_server "198.18.1.1:80" {
    name = "web1",
    notify_down = function(ev)
      sleep(0.01)
      log.warn("down:", ev.event, ev.service, ev.server, ev.name, ev.reason)
    end,
  },
}`, time.Second)
	h.fire("down", 0, 0, "connection refused")
	h.waitLog("notify_down", `msg="down: down TCP 198.18.0.1:80 198.18.1.1:80 web1 connection refused" from=hook at=`)
	h.fire("quorum_down", 0, -1, "")
	h.waitLog("quorum_down", `msg="pager quorum_down TCP 198.18.0.1:80 server=[] web"`)
	if strings.Contains(h.logs.String(), "Lua hook failed") {
		t.Errorf("a hook failed:\n%s", h.logs)
	}
}

// A hook stuck in a loop is sliced like a check: the service's check keeps
// its pace, a later hook runs at once, and the stuck one is stopped at its
// deadline; an error in a hook is logged with its file and line.
func TestStuckHookIsBounded(t *testing.T) {
	h := startHooks(t, `
local n = 0
virtual_server "198.18.0.1:80" {
  real_server "198.18.1.1:80" {
    notify_down = function(ev) while true do end end,
    notify_up = function(ev) log.info("up ran") end,
  },
  real_server "198.18.1.2:80" { notify_down = function(ev) error("pager unreachable") end },
  healthcheck_interval = "100ms", healthcheck_timeout = "50ms",
  healthcheck = function(lvs, dests) n = n + 1; dests[1].weight = n % 100 + 1 end,
}`, 500*time.Millisecond)
	start := time.Now()
	h.fire("down", 0, 0, "timeout")
	time.Sleep(50 * time.Millisecond)
	h.fire("up", 0, 0, "")
	h.waitLog("the later hook", `msg="up ran"`)
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("a hook fired next to a stuck one ran after %s", d)
	}
	// Stopped by its own deadline while it runs ("did not finish"), or by
	// the runner's tick between two of its slices ("timed out"): on a busy
	// machine either comes first.
	stoppedRun := func() bool {
		l := h.logs.String()
		return strings.Contains(l, "did not finish within 500ms (an endless loop?)") || strings.Contains(l, `msg="Lua hook timed out"`)
	}
	for deadline := time.Now().Add(5 * time.Second); !stoppedRun() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	stopped := time.Since(start)
	if !stoppedRun() {
		t.Fatalf("the stuck hook was not stopped:\n%s", h.logs)
	}
	if stopped < 450*time.Millisecond || stopped > 1500*time.Millisecond {
		t.Errorf("the stuck hook (deadline 500ms) was stopped after %s", stopped)
	}
	l := h.logs.String()
	if !strings.Contains(l, `msg="Lua hook failed" event=down service="TCP 198.18.0.1:80" server=198.18.1.1:80`) &&
		!strings.Contains(l, `msg="Lua hook timed out" event=down service="TCP 198.18.0.1:80" server=198.18.1.1:80`) {
		t.Errorf("the stuck hook's failure lacks the event:\n%s", l)
	}
	runs := strings.Count(h.ft.seen(), "weight 198.18.1.1:80")
	t.Logf("the check ran %d times in %s next to a stuck hook", runs, stopped)
	if want := int(stopped/(100*time.Millisecond)) - 2; runs < want {
		t.Errorf("the check ran %d times in %s next to a stuck hook (every 100 ms)", runs, stopped)
	}
	h.fire("down", 0, 1, "refused")
	h.waitLog("the hook's error", "hooks.lua:8: pager unreachable")
}

// A hook is held to the memory budget of a check.
func TestHookMemoryBudget(t *testing.T) {
	h := startHooks(t, `
virtual_server "198.18.0.1:80" {
  real_server "198.18.1.1:80" {
    notify_down = function(ev) local t = {} while true do t[#t + 1] = ("x"):rep(1e6) .. #t end end,
  },
}`, 5*time.Second)
	h.fire("down", 0, 0, "")
	h.waitLog("the budget", "memory limit exceeded")
}

// The queue never blocks the engine: full, it drops the event with a
// warning. Hooks waiting when the configuration in force has no Lua
// runtime are discarded; a name the configuration lacks is not run.
func TestHookQueueDropsWhenFull(t *testing.T) {
	logs := &testlog.Buffer{}
	q := NewHookQueue(2, slog.New(slog.NewTextHandler(logs, nil)))
	ev := engine.Event{Kind: "down", Hook: model.Hook{Func: "x.lua:1", Where: "x.lua:1"}}
	start := time.Now()
	for range 5 {
		q.Fire(ev)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Fire on a full queue took %s", d)
	}
	if n := strings.Count(logs.String(), "Lua hook dropped"); n != 3 {
		t.Errorf("%d drops logged, want 3:\n%s", n, logs)
	}
	q.Discard()
	if n := strings.Count(logs.String(), "Lua hook not run"); n != 2 || len(q.ch) != 0 {
		t.Errorf("Discard: %d logged, %d left:\n%s", n, len(q.ch), logs)
	}

	h := startHooks(t, `virtual_server "198.18.0.1:80" { real_server "198.18.1.1:80" { notify_down = function(ev) end } }`, time.Second)
	h.q.Fire(ev)
	h.waitLog("the unknown hook", `msg="Lua hook not run: the configuration in force has no such function" event=down`)
}
