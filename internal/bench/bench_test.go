package bench

import (
	"strings"
	"testing"
)

func TestRulesAndLuaConfigAgree(t *testing.T) {
	if n := strings.Count(Rules(3, 4), "\n"); n != 15 {
		t.Fatalf("Rules(3, 4) has %d lines, want 15", n)
	}
	if !strings.Contains(LuaConfig(3, 4), "for i = 0, 3 - 1 do") {
		t.Fatal("LuaConfig lost its loop")
	}
}
