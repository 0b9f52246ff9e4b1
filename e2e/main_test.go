// Package e2e holds end-to-end tests that run against a real IPVS kernel
// (the QEMU VM started by vm/luvs-vm). Elsewhere they skip, unless
// LUVS_E2E=1 is set, in which case a missing IPVS is a failure.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/ipvs"
)

var skipReason string

func TestMain(m *testing.M) {
	c, err := ipvs.Open()
	switch {
	case err != nil:
		skipReason = "no IPVS here: " + err.Error()
	case os.Geteuid() != 0:
		skipReason = "needs root"
	default:
		c.Close()
		for _, tool := range []string{"ip", "ipvsadm", "luvs"} {
			if _, err := exec.LookPath(tool); err != nil {
				skipReason = fmt.Sprintf("%s not in PATH", tool)
			}
		}
	}
	if skipReason != "" && os.Getenv("LUVS_E2E") == "1" {
		fmt.Fprintln(os.Stderr, "LUVS_E2E=1 but the end-to-end tests cannot run:", skipReason)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func needKernel(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// lines splits output into lines without the trailing empty one.
func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// sameLines fails the test with a line-by-line comparison when a and b differ.
func sameLines(t *testing.T, what, want, got string) {
	t.Helper()
	if want == got {
		return
	}
	wl, gl := lines(want), lines(got)
	var b strings.Builder
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		mark := " "
		if w != g {
			mark = "!"
		}
		fmt.Fprintf(&b, "%s ipvsadm %q\n%s luvs    %q\n", mark, w, mark, g)
	}
	t.Errorf("%s differs from ipvsadm:\n%s", what, b.String())
}
