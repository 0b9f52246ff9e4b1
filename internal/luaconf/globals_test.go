package luaconf

import (
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/model"
)

// TestGlobals: timeouts, sync daemons and the script user reach the model;
// the script user fills in exec checks without a user of their own.
func TestGlobals(t *testing.T) {
	cfg, err := load(t, `
timeouts { tcp = "15m", udp = 30 }
sync_daemon { state = "backup", interface = "eth1", id = 3, port = 9000 }
scripts { user = "nobody" }
local probe = exec { argv = { "/bin/true" } }
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = probe },
  real_server "198.18.1.2:80" { check = exec { argv = { "/bin/true" }, user = "root" } },
}`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeouts == nil || *cfg.Timeouts != (model.Timeouts{TCP: 900, UDP: 30}) {
		t.Errorf("timeouts %+v", cfg.Timeouts)
	}
	if len(cfg.SyncDaemons) != 1 || cfg.SyncDaemons[0].String() != "backup sync daemon on eth1 (syncid 3, port 9000)" {
		t.Errorf("sync daemons %v", cfg.SyncDaemons)
	}
	if cfg.Scripts == nil || cfg.Scripts.User != "nobody" {
		t.Fatalf("scripts %+v", cfg.Scripts)
	}
	servers := cfg.Services[0].Servers
	if u := servers[0].Checks[0].Exec.User; u != "nobody" {
		t.Errorf("exec check without a user runs as %q, want the script user", u)
	}
	if u := servers[1].Checks[0].Exec.User; u != "root" {
		t.Errorf("exec check with user root runs as %q", u)
	}
	_, err = load(t, `scripts { user = "no-such-user-here" }`)
	if err == nil || !strings.Contains(err.Error(), `scripts: no user "no-such-user-here" on this system`) {
		t.Errorf("unknown script user: %v", err)
	}
}
