package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/luvs-lb/luvs/internal/ipvs"
)

func TestExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.rules")
	if err := os.WriteFile(bad, []byte("-A -t 198.18.0.10:80 -s wrr\n-a -t 198.18.0.10:80 -r 198.18.1.1:80 -w 99999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(t.TempDir(), "invalid.rules")
	if err := os.WriteFile(invalid, []byte("-A -t 198.18.0.10:80 -s nosuch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"restore", bad}, exitInput},
		{[]string{"restore", invalid}, exitInput},
		{[]string{"restore", "/nonexistent/rules"}, exitInput},
		{[]string{"list", "--bogus"}, exitInput},
		{[]string{"list", "extra"}, exitInput},
		{[]string{"list", "--stats", "--rate"}, exitInput},
		{[]string{"flush"}, exitInput},
		{[]string{"zero", "198.18.0.300:80"}, exitInput},
		{[]string{"sync", "start", "primary", "--interface", "eth0"}, exitInput},
		{[]string{"nosuchcommand"}, exitInput},
		{[]string{"--help"}, exitOK},
		{[]string{"restore", "--help"}, exitOK},
	} {
		if got := run(c.args); got != c.want {
			t.Errorf("luvs %v: exit %d, want %d", c.args, got, c.want)
		}
	}
	// Without IPVS (as on CI's host) a kernel command fails with exit 1.
	if c, err := ipvs.Open(); err == nil {
		c.Close()
	} else if got := run([]string{"list"}); got != exitFailure {
		t.Errorf("luvs list without IPVS: exit %d, want %d", got, exitFailure)
	}
}
