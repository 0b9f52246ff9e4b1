package luaconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/luasandbox"
)

// fuzzLimits keep one input quick: a runaway loop or allocation is
// stopped within 200 ms or 16 MiB.
var fuzzLimits = luasandbox.Limits{Time: 200 * time.Millisecond, Memory: 16 << 20, CallDepth: 200}

// FuzzLoad: whatever the source, Load does not panic, returns within its
// limits, and every problem it reports has a file and a line.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`defaults { [0] = 1 }`,
		`defaults { [-3] = 1, [0.5] = 2, [1e300] = 3, [2^53] = 4 }`,
		`defaults { [true] = 1 }`,
		`defaults { [{}] = 1 }`,
		`defaults { [0/0] = 1 }`,
		`virtual_server "198.18.0.10:80" { [0.5] = real_server "198.18.1.1:80" {}, [0] = 1 }`,
		`virtual_server "198.18.0.10:80" { real_server "198.18.1.1:80" { [0] = 1, check = tcp { [-1] = 1 } } }`,
		`virtual_server "198.18.0.10:80" { persistence = "4294967596s", weight = 1e20, real_server "2001:db8:12::2:8080" {} }`,
		`virtual_server "fwmark:010" { persistence = 1e400, real_server "198.18.1.1" { forward = "dr" } }`,
		`virtual_server "udp:198.18.0.53:53" { one_packet = true, real_server "198.18.1.1" { check = dns { name = "a\0b" } } }`,
		`virtual_server "198.18.0.10:80" { real_server "198.18.1.1:80" { check = http { path = "/\n", headers = { ["a\r\nb"] = {} } } } }`,
		`virtual_server "198.18.0.10:80" {}`,
		`virtual_server "198.18.0.10:80" { servers = { [0] = real_server "198.18.1.1:80" {}, x = 1 }, sched_flags = { [true] = 1 } }`,
		`virtual_server "2001:db8::10:80" {}`,
		`defaults(setmetatable({}, { __index = { weight = 2 } }))`,
		"virtual_server \"198.18.0.10:80\" {\n  real_server \"198.18.1.1:80\" {} },\n  real_server \"198.18.1.2:80\" {},\n}\n",
		`error({})`,
		`error("x", 0)`,
		`pcall(include, "nope.lua")`,
		`include "/dev/zero"`,
		`local function f() return f() end f()`,
		`local t = {} for i = 1, 1e9 do t[i] = i end`,
		`while true do end`,
		strings.Repeat("{", 300) + strings.Repeat("}", 300),
		"x = " + strings.Repeat("{", 300) + strings.Repeat("}", 300),
		"x = " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300),
		strings.Repeat("virtual_server \"198.18.0.10:80\" { ", 50) + strings.Repeat("}", 50),
		"xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa()",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		path := filepath.Join(dir, "fuzz.lua")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := Load(path, Options{Limits: fuzzLimits, MaxSource: 1 << 20})
		if d := time.Since(start); d > 10*fuzzLimits.Time+time.Second {
			t.Errorf("Load took %s", d)
		}
		if err == nil {
			for _, w := range res.Warnings {
				checkPos(t, w)
			}
			res.Close()
			return
		}
		var ps Problems
		if !errors.As(err, &ps) {
			t.Fatalf("error is not Problems: %v", err)
		}
		if len(ps.Errors()) == 0 {
			t.Errorf("failed with warnings only: %v", ps)
		}
		for _, p := range ps {
			checkPos(t, p)
		}
	})
}

func checkPos(t *testing.T, p Problem) {
	t.Helper()
	if p.Pos.File == "" || p.Pos.Line <= 0 || p.Pos.Col <= 0 {
		t.Errorf("problem without a position: %q", p.Error())
	}
}
