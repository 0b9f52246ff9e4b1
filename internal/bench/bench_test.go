package bench

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/ipvsadm"
	"github.com/luvs-lb/luvs/internal/luaconf"
)

// TestRulesAndLuaConfigAgree: the rules and the Lua loop ask for the same
// table, also past the 64,000th real server, where addresses repeat on the
// next port.
func TestRulesAndLuaConfigAgree(t *testing.T) {
	const n, m = 6500, 10
	rules := Rules(n, m)
	if got := strings.Count(rules, "\n"); got != n*(m+1) {
		t.Fatalf("Rules(%d, %d) has %d lines, want %d", n, m, got, n*(m+1))
	}
	fromRules, err := ipvsadm.Parse("rules", strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bench.lua")
	if err := os.WriteFile(path, []byte(LuaConfig(n, m)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := luaconf.Load(path, luaconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	fromLua := res.Config.State()
	if len(fromLua.Services) != n || len(fromRules.Services) != n {
		t.Fatalf("services: %d from Lua, %d from rules, want %d", len(fromLua.Services), len(fromRules.Services), n)
	}
	for i := range fromRules.Services {
		r, l := fromRules.Services[i], fromLua.Services[i]
		if !reflect.DeepEqual(r.Service, l.Service) || !reflect.DeepEqual(r.Dests, l.Dests) {
			t.Fatalf("service %d differs:\nrules %+v\nlua   %+v", i, r, l)
		}
	}
	last := fromRules.Services[n-1].Dests[m-1]
	if last.Port != 8081 || last.Addr.String() != "198.19.3.250" {
		t.Fatalf("last real server %s:%d, want 198.19.3.250:8081", last.Addr, last.Port)
	}
}
