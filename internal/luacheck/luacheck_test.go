package luacheck

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/luaconf"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// fakeTarget records what scripts do.
type fakeTarget struct {
	mu      sync.Mutex
	cfg     *model.Config
	calls   []string
	removed map[model.DestKey]bool
}

func (f *fakeTarget) ScriptView(svc model.ServiceKey) []engine.ScriptDest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.ScriptDest
	for _, s := range f.cfg.Services {
		if s.ServiceKey == svc {
			for _, rs := range s.Servers {
				if !f.removed[rs.DestKey] {
					out = append(out, engine.ScriptDest{Dest: rs.Dest, Up: true})
				}
			}
		}
	}
	return out
}

func (f *fakeTarget) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeTarget) ScriptRemove(svc model.ServiceKey, dk model.DestKey) {
	f.mu.Lock()
	f.removed[dk] = true
	f.mu.Unlock()
	f.record("remove " + dk.String())
}
func (f *fakeTarget) ScriptAdd(svc model.ServiceKey, d model.Dest) {
	f.record(fmt.Sprintf("add %s weight %d %s", d.DestKey, d.Weight, d.Forward))
}
func (f *fakeTarget) ScriptWeight(svc model.ServiceKey, dk model.DestKey, w int) {
	f.record(fmt.Sprintf("weight %s %d", dk, w))
}

func (f *fakeTarget) seen() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, "\n")
}

// loadRunner loads src and prepares a runner of its checks on a fake target.
func loadRunner(t *testing.T, src string) (*Runner, *fakeTarget, *testlog.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hc.lua")
	os.WriteFile(path, []byte(src), 0o644)
	res, err := luaconf.Load(path, luaconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(res.Close)
	ft := &fakeTarget{cfg: res.Config, removed: map[model.DestKey]bool{}}
	logs := &testlog.Buffer{}
	return New(res.L, res.Config, ft, res.ServerFor, slog.New(slog.NewTextHandler(logs, nil))), ft, logs
}

func runScripts(t *testing.T, src string, d time.Duration) (*fakeTarget, string) {
	t.Helper()
	r, ft, logs := loadRunner(t, src)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	r.Run(ctx)
	return ft, logs.String()
}

func TestScriptActsOnTheTable(t *testing.T) {
	ft, logs := runScripts(t, `
defaults { forward = "dr" }
local web1 = real_server "198.18.1.1:80" { weight = 2 }
virtual_server "198.18.0.10:80" {
  web1, real_server "198.18.1.2:80" {},
  healthcheck_interval = "1s",
  healthcheck = function(lvs, dests)
    sleep(0.01)
    dests[2].weight = 5
    lvs:del_dest(web1)
    if #lvs.dests < 2 then lvs:add_dest(real_server "198.18.1.3" { weight = 4 }) end
    log.info("done", #dests)
  end,
}
`, 500*time.Millisecond)
	want := "weight 198.18.1.2:80 5\nremove 198.18.1.1:80\nadd 198.18.1.3:80 weight 4 Route"
	if got := ft.seen(); got != want {
		t.Errorf("script did:\n%s\nwant:\n%s\nlogs:\n%s", got, want, logs)
	}
	if !strings.Contains(logs, "msg=\"done 2\"") {
		t.Errorf("log.info missing:\n%s", logs)
	}
}

func TestScriptFailuresAreContained(t *testing.T) {
	_, logs := runScripts(t, `
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
  healthcheck_interval = "200ms", healthcheck_timeout = "50ms",
  healthcheck = function(lvs, dests) while true do end end,
}
virtual_server "198.18.0.11:80" {
  real_server "198.18.1.1:80" {},
  healthcheck_interval = "200ms", healthcheck_timeout = "50ms",
  healthcheck = function(lvs, dests) sleep(10) end,
}
virtual_server "198.18.0.12:80" {
  real_server "198.18.1.1:80" {},
  healthcheck_interval = "200ms",
  healthcheck = function(lvs, dests) error("backend table corrupt") end,
}
`, 700*time.Millisecond)
	for _, want := range []string{
		"hc.lua:5: did not finish within 50ms (an endless loop?)",
		"health check timed out",
		"hc.lua:15: backend table corrupt",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

// A health check sees the helpers and its closures, not the configuration's
// globals or the DSL.
func TestScriptEnvironment(t *testing.T) {
	_, logs := runScripts(t, `
pool_size = 3
local web1 = real_server "198.18.1.1:80" {}
virtual_server "198.18.0.10:80" {
  web1,
  healthcheck_interval = "1s",
  healthcheck = function(lvs, dests)
    log.info("local", web1.hostport, "global", tostring(rawget(_G or {}, "pool_size")))
    virtual_server "198.18.0.11:80" {}
  end,
}
`, 400*time.Millisecond)
	if !strings.Contains(logs, "local 198.18.1.1:80 global nil") {
		t.Errorf("closure or environment wrong:\n%s", logs)
	}
	if !strings.Contains(logs, "hc.lua:9: attempt to call a non-function object") {
		t.Errorf("virtual_server reachable from a health check:\n%s", logs)
	}
}

// Many checks waiting on I/O at once do not wait for each other: 300
// checks sleeping 100 ms each all finish within one interval.
func TestScriptsRunConcurrently(t *testing.T) {
	var b strings.Builder
	b.WriteString("local done = 0\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, `virtual_server "198.18.%d.%d:80" { real_server "198.19.0.1:80" {},
  healthcheck_interval = "10s", healthcheck_timeout = "2s",
  healthcheck = function(lvs, dests) sleep(0.1); done = done + 1; if done == 300 then log.info("all done") end end }
`, i/250, i%250+1)
	}
	start := time.Now()
	_, logs := runScripts(t, b.String(), 1500*time.Millisecond)
	if !strings.Contains(logs, "all done") {
		t.Errorf("300 concurrent 100 ms checks did not all finish within %s", time.Since(start))
	}
}
