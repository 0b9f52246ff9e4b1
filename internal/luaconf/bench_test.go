package luaconf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bigConfig writes a configuration of n virtual servers with m real servers
// each, every real server with an inherited http check.
func bigConfig(tb testing.TB, n, m int) string {
	var b strings.Builder
	b.WriteString(`defaults { scheduler = "wrr", forward = "nat", check = http { path = "/healthz", interval = "2s" } }` + "\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "virtual_server \"198.18.%d.%d:80\" {\n", i/250, i%250+1)
		for j := 0; j < m; j++ {
			k := i*m + j
			fmt.Fprintf(&b, "  real_server \"198.19.%d.%d:8080\" { weight = %d },\n", k/250, k%250+1, 1+j%5)
		}
		b.WriteString("}\n")
	}
	path := filepath.Join(tb.TempDir(), "big.lua")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkLoad1000x10 is `luvs check` on 1,000 services x 10 real servers.
func BenchmarkLoad1000x10(b *testing.B) { benchLoad(b, bigConfig(b, 1000, 10), 1000) }

// benchLoad loads path, which declares services virtual servers, b.N times.
func benchLoad(b *testing.B, path string, services int) {
	for b.Loop() {
		res, err := Load(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Config.Services) != services {
			b.Fatal(len(res.Config.Services))
		}
		res.Close()
	}
}

// flatConfig writes n top-level virtual_server statements, one real server
// each: one large main chunk.
func flatConfig(tb testing.TB, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "virtual_server \"198.18.%d.%d:80\" { real_server \"198.19.%d.%d:80\" {} }\n",
			i/250, i%250+1, i/250, i%250+1)
	}
	path := filepath.Join(tb.TempDir(), "flat.lua")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// loopConfig writes a configuration that declares n services of m real
// servers each in a Lua loop.
func loopConfig(tb testing.TB, n, m int) string {
	src := fmt.Sprintf(`for i = 0, %d - 1 do
  local reals = {}
  for j = 0, %d - 1 do
    local k = i * %d + j
    reals[#reals + 1] = real_server(string.format("10.%%d.%%d.%%d:8080", math.floor(k / 65536), math.floor(k / 256) %% 256, k %% 256)) { weight = 1 + j %% 5 }
  end
  virtual_server(string.format("198.18.%%d.%%d:80", math.floor(i / 250), i %% 250 + 1))(reals)
end
`, n, m, m)
	path := filepath.Join(tb.TempDir(), "loop.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Large configurations load within the default limits: 15,000 top-level
// statements (one function, once compiled statement by statement to get
// around a quadratic compiler), and 10,000 x 10 servers made by a loop.
func TestLargeConfigs(t *testing.T) {
	if testing.Short() {
		t.Skip("large configurations")
	}
	for _, c := range []struct {
		name     string
		path     string
		services int
	}{
		{"15000 top-level statements", flatConfig(t, 15000), 15000},
		{"10000x10 in a loop", loopConfig(t, 10000, 10), 10000},
	} {
		start := time.Now()
		res, err := Load(c.path, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		took := time.Since(start)
		if n := len(res.Config.Services); n != c.services {
			t.Errorf("%s: %d services", c.name, n)
		}
		res.Close()
		t.Logf("%s: loaded in %s", c.name, took)
	}
}

// BenchmarkLoadFlat15000 loads 15,000 top-level virtual_server statements.
func BenchmarkLoadFlat15000(b *testing.B) { benchLoad(b, flatConfig(b, 15000), 15000) }

// BenchmarkLoadLoop10000x10 loads 10,000 services x 10 real servers declared
// in a Lua loop.
func BenchmarkLoadLoop10000x10(b *testing.B) { benchLoad(b, loopConfig(b, 10000, 10), 10000) }
