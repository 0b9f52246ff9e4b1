package daemon

import (
	"context"
	"strings"
	"testing"
	"time"
)

const hookDefaults = `defaults { scheduler = "wrr", check = tcp { interval = "100ms", timeout = "50ms", rise = 1, fall = 1 } }
`

// TestLuaHooks: notify_down, notify_up, quorum_down and quorum_up written
// as Lua functions run in the daemon's Lua runtime (the configuration has
// no health-check function) with the event's fields; quorum_down runs once
// when the quorum goes, not again as more servers fail; reloads of the same
// file fire nothing, and the hooks still run after them.
func TestLuaHooks(t *testing.T) {
	l := newLab(t)
	l.write(hookDefaults + `
local function show(ev)
  log.warn("hook", ev.event, ev.service, "[" .. ev.server .. "]", ev.name, "[" .. ev.reason .. "]")
end
virtual_server "198.18.0.1:80" {
  name = "web", quorum = 6,
  quorum_down = show,
  quorum_up = function(ev) show(ev) end,
  notify_down = show,
  real_server "198.18.1.1:80" { weight = 3, name = "web1", notify_up = function(ev) show(ev) end },
  real_server "198.18.1.2:80" { weight = 3, name = "web2" },
}
`)
	d, _ := l.start(l.options())
	s := svc("198.18.0.1:80")
	count := func(text string) int { return strings.Count(l.logs.String(), text) }
	l.probes.set("198.18.1.1", true)
	waitFor(t, "web1's notify_down", func() bool {
		return count(`msg="hook down TCP 198.18.0.1:80 [198.18.1.1:80] web1 [tcp check: connection refused]" from=hook`) == 1
	})
	waitFor(t, "quorum_down", func() bool { return count(`msg="hook quorum_down TCP 198.18.0.1:80 [] web []" from=hook`) == 1 })
	l.probes.set("198.18.1.2", true)
	waitFor(t, "web2's notify_down", func() bool { return count(`msg="hook down TCP 198.18.0.1:80 [198.18.1.2:80] web2`) == 1 })
	for range 2 {
		if err := d.Reload(context.Background(), "SIGHUP"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := count(`msg="hook `); n != 3 {
		t.Fatalf("%d hooks ran, want 3 (two notify_down, one quorum_down; the reloads none):\n%s", n, l.logs)
	}
	l.probes.set("198.18.1.1", false)
	l.probes.set("198.18.1.2", false)
	waitFor(t, "notify_up after the reloads", func() bool { return count(`msg="hook up TCP 198.18.0.1:80 [198.18.1.1:80] web1 []"`) == 1 })
	waitFor(t, "quorum_up", func() bool { return count(`msg="hook quorum_up TCP 198.18.0.1:80 [] web []"`) == 1 })
	waitFor(t, "both servers back", func() bool { return l.kernel.Weight(s, dest("198.18.1.2:80")) == 3 })
	time.Sleep(200 * time.Millisecond)
	if n := count(`msg="hook `); n != 5 || count("Lua hook") != 0 {
		t.Errorf("%d hooks ran, want 5 (web2 has no notify_up):\n%s", n, l.logs)
	}
}

// TestStuckLuaHookDoesNotDelayTheEngine: a notify_down stuck in a loop
// neither delays the engine (another service's changes are applied at
// their pace) nor runs past its deadline.
func TestStuckLuaHookDoesNotDelayTheEngine(t *testing.T) {
	l := newLab(t)
	l.write(hookDefaults + `
virtual_server "198.18.0.1:80" {
  real_server "198.18.1.1:80" { weight = 3, notify_down = function(ev) while true do end end },
}
virtual_server "198.18.0.2:80" { real_server "198.18.2.1:80" { weight = 3 } }
`)
	o := l.options()
	o.HookTimeout = time.Second
	l.start(o)
	stuck, other := svc("198.18.0.1:80"), svc("198.18.0.2:80")
	l.probes.set("198.18.1.1", true)
	waitFor(t, "the stuck hook's server drained", func() bool { return l.kernel.Weight(stuck, dest("198.18.1.1:80")) == 0 })
	fired := time.Now()
	for i, down := range []bool{true, false, true} {
		start := time.Now()
		want := 3
		if down {
			want = 0
		}
		l.probes.set("198.18.2.1", down)
		waitFor(t, "the other service's change", func() bool { return l.kernel.Weight(other, dest("198.18.2.1:80")) == want })
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("change %d took %s next to a stuck hook (a check every 100 ms)", i, took)
		}
	}
	if strings.Contains(l.logs.String(), "did not finish") {
		t.Fatalf("the hook was stopped before its deadline (%s):\n%s", time.Since(fired), l.logs)
	}
	waitFor(t, "the stuck hook stopped", func() bool {
		return strings.Contains(l.logs.String(), "did not finish within 1s (an endless loop?)")
	})
	if took := time.Since(fired); took > 2500*time.Millisecond {
		t.Errorf("the hook with a 1 s deadline was stopped after %s", took)
	}
	if !strings.Contains(l.logs.String(), `msg="Lua hook failed" event=down service="TCP 198.18.0.1:80" server=198.18.1.1:80 err=`) {
		t.Errorf("the stopped hook's log lacks its event:\n%s", l.logs)
	}
}
