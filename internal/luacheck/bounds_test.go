package luacheck

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A check stuck in a Lua loop is sliced: the other services' checks keep
// their pace, and the stuck one is stopped at its deadline.
func TestStuckCheckDoesNotDelayOthers(t *testing.T) {
	ft, logs := runScripts(t, `
virtual_server "198.18.0.1:80" {
  real_server "198.18.1.1:80" {},
  healthcheck_interval = "2s", healthcheck_timeout = "1s",
  healthcheck = function(lvs, dests) while true do end end,
}
local n = 0
virtual_server "198.18.0.2:80" {
  real_server "198.18.1.2:80" {},
  healthcheck_interval = "100ms", healthcheck_timeout = "50ms",
  healthcheck = function(lvs, dests) n = n + 1; dests[1].weight = n % 100 + 1 end,
}`, 1500*time.Millisecond)
	runs := strings.Count(ft.seen(), "weight 198.18.1.2:80")
	t.Logf("the healthy check ran %d times in 1.5 s next to a stuck one", runs)
	if runs < 11 {
		t.Errorf("the other check ran %d times in 1.5 s (every 100 ms: about 15)", runs)
	}
	if !strings.Contains(logs, "did not finish within 1s") && !strings.Contains(logs, "timed out") {
		t.Errorf("the stuck check was not stopped at its deadline:\n%s", logs)
	}
}

// A check that allocates without bound is stopped at its budget, also when
// it catches the error.
func TestCheckMemoryBudget(t *testing.T) {
	for _, body := range []string{
		`local t = {} while true do t[#t + 1] = ("x"):rep(1e6) .. #t end`,
		`local t = {} while true do pcall(function() t[#t + 1] = ("x"):rep(1e6) .. #t end) end`,
	} {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, logs := runScripts(t, `
virtual_server "198.18.0.1:80" {
  real_server "198.18.1.1:80" {},
  healthcheck_interval = "5s", healthcheck_timeout = "2s",
  healthcheck = function(lvs, dests) `+body+` end,
}`, 1500*time.Millisecond)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if !strings.Contains(logs, "memory limit exceeded") {
			t.Errorf("%s: not stopped by the memory budget:\n%s", body, logs)
		}
		if grew := (after.TotalAlloc - before.TotalAlloc) >> 20; grew > 4*RunMemory>>20 {
			t.Errorf("%s: %d MiB allocated (budget %d MiB)", body, grew, RunMemory>>20)
		}
	}
}

// Stopping the runner (a reload or shutdown) does not wait for a stuck
// check's deadline.
func TestStopDoesNotWaitForStuckCheck(t *testing.T) {
	r, _, _ := loadRunner(t, `
virtual_server "198.18.0.1:80" {
  real_server "198.18.1.1:80" {},
  healthcheck_interval = "10s", healthcheck_timeout = "9s",
  healthcheck = function(lvs, dests) while true do end end,
}`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case <-done:
		t.Logf("stopped %s after the cancel", time.Since(start).Round(time.Millisecond))
	case <-time.After(time.Second):
		t.Fatal("the runner waits for a stuck check to time out")
	}
}

// A weight is an integer: 2.7 is an error, not 2.
func TestScriptWeightMustBeInteger(t *testing.T) {
	ft, logs := runScripts(t, `
virtual_server "198.18.0.1:80" {
  real_server "198.18.1.1:80" {},
  healthcheck_interval = "1s",
  healthcheck = function(lvs, dests) dests[1].weight = 2.7 end,
}`, 300*time.Millisecond)
	if strings.Contains(ft.seen(), "weight") || !strings.Contains(logs, "weight must be an integer 0..65535, got 2.7") {
		t.Errorf("calls %q, logs:\n%s", ft.seen(), logs)
	}
}
