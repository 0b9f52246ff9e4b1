package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/testbed"
)

const hooksConfig = `
defaults {
  scheduler = "wrr", forward = "nat",
  check = http { path = "/", interval = "500ms", timeout = "300ms", rise = 1, fall = 1 },
}
virtual_server "198.18.0.10:80" {
  name = "web", quorum = 2,
  quorum_down = function(ev) log.warn("lua hook", ev.event, ev.service, ev.name) end,
  quorum_up = function(ev) log.warn("lua hook", ev.event, ev.service, ev.name) end,
  real_server "198.18.1.2:80" {
    weight = 1, name = "web1",
    notify_down = { "/bin/sh", "-c", 'echo "$LUVS_EVENT $LUVS_SERVER $LUVS_NAME $LUVS_REASON" >> %[1]s' },
    notify_up = function(ev)
      local r = http.get("http://198.18.2.2:80/")
      log.warn("lua hook", ev.event, ev.server, ev.name, "web2 answered", r.status)
    end,
  },
  real_server "198.18.2.2:80" { weight = 1, name = "web2" },
}
`

// TestNotifyHooks: in the kernel's lab, a backend that stops runs its
// notify_down program (with the event in its environment) and the service's
// quorum_down Lua function; once it is back, its notify_up Lua function
// runs and reaches the other backend with the Lua http helper, and
// quorum_up runs.
func TestNotifyHooks(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	b1 := lab.AddBackend(1)
	lab.AddBackend(2)
	lab.AddVIP(addr("198.18.0.10"))
	events := filepath.Join(t.TempDir(), "events")
	d := startDaemon(t, lab, writeConfig(t, fmt.Sprintf(hooksConfig, events)))
	waitFor(t, "the service", 10*time.Second, func() bool { return weightOf(lab, "198.18.2.2:80") == 1 })
	if strings.Contains(d.logs.String(), "lua hook") {
		t.Fatalf("a hook ran at start with every server up:\n%s", d.logs.String())
	}

	b1.Stop()
	took := waitFor(t, "web1's notify_down program", 5*time.Second, func() bool {
		b, _ := os.ReadFile(events)
		return strings.HasPrefix(string(b), "down 198.18.1.2:80 web1 http check: ")
	})
	t.Logf("notify_down ran %s after the backend stopped", took.Round(time.Millisecond))
	waitFor(t, "quorum_down", 5*time.Second, func() bool {
		return strings.Contains(d.logs.String(), `msg="lua hook quorum_down TCP 198.18.0.10:80 web"`)
	})
	if w := weightOf(lab, "198.18.1.2:80"); w > 0 {
		t.Errorf("web1 down: weight %d, want out of service", w)
	}

	if err := b1.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web1's notify_up function", 5*time.Second, func() bool {
		return strings.Contains(d.logs.String(), `msg="lua hook up 198.18.1.2:80 web1 web2 answered 200"`)
	})
	waitFor(t, "quorum_up", 5*time.Second, func() bool {
		return strings.Contains(d.logs.String(), `msg="lua hook quorum_up TCP 198.18.0.10:80 web"`)
	})
	waitFor(t, "web1 back", 5*time.Second, func() bool { return weightOf(lab, "198.18.1.2:80") == 1 })
	if b, _ := os.ReadFile(events); strings.Count(string(b), "\n") != 1 {
		t.Errorf("the notify_down program ran other than once:\n%s", b)
	}
}
