package luaconf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
func BenchmarkLoad1000x10(b *testing.B) {
	path := bigConfig(b, 1000, 10)
	for b.Loop() {
		res, err := Load(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Config.Services) != 1000 {
			b.Fatal(len(res.Config.Services))
		}
		res.Close()
	}
}
