package testbed

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBirdConfig renders the ECMP lab's BIRD configuration and, where
// bird is installed, has it parsed (bird -p).
func TestBirdConfig(t *testing.T) {
	l := &ECMPLab{Directors: []*Director{
		{Name: "director1", Addr4: netip.MustParseAddr("198.18.100.11")},
		{Name: "director2", Addr4: netip.MustParseAddr("198.18.100.12")},
	}}
	c := l.BirdConfig()
	c.Extra = "# extra"
	conf := c.String()
	for _, want := range []string{
		"router id 198.18.100.1;",
		"merge paths on;",
		"\tlocal as 65000;\n\tpassive on;\n\tbfd on;\n",
		"protocol bgp director1 from director {\n\tneighbor 198.18.100.11 as 65001;\n}",
		"protocol bgp director2 from director {\n\tneighbor 198.18.100.12 as 65001;\n}",
		"\n# extra\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	c.BFD, c.Passive = false, false
	if s := c.String(); strings.Contains(s, "bfd on") || strings.Contains(s, "passive") {
		t.Errorf("BFD and Passive off, yet:\n%s", s)
	}
	bird, err := exec.LookPath("bird")
	if err != nil {
		t.Log("bird not installed: the configuration is not parsed")
		return
	}
	f := filepath.Join(t.TempDir(), "bird.conf")
	if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bird, "-p", "-c", f).CombinedOutput(); err != nil {
		t.Errorf("bird -p: %v\n%s\n%s", err, out, conf)
	}
}
