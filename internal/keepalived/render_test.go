package keepalived

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRenderQuotes(t *testing.T) {
	n := &Node{Key: "vrrp_script", Args: []string{"chk"}, Block: true, Children: []*Node{
		{Key: "script", Args: []string{`/bin/sh -c "test -f /x" # not a comment`}},
		{Key: "weight", Args: []string{"-20"}, Comments: []Comment{{Pos: Pos{Line: 1}, Text: "# before"}}},
	}}
	got := Render([]*RawBlock{{Node: n}})
	want := "vrrp_script chk {\n    script \"/bin/sh -c \\\"test -f /x\\\" # not a comment\"\n    # before\n    weight -20\n}\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	back, err := Parse("r", []byte(got), Options{})
	if err != nil || back.Skipped[0].Node.Children[0].Args[0] != n.Children[0].Args[0] {
		t.Errorf("read back: %v %+v", err, back)
	}
}

// keepalived itself reads the rendered VRRP and global parts without a
// syntax complaint (skipped without keepalived, or without the right to
// make a network namespace for it).
func TestRenderKeepalivedAccepts(t *testing.T) {
	ka, err := exec.LookPath("keepalived")
	if err != nil {
		ka = "/usr/sbin/keepalived"
	}
	if _, err := os.Stat(ka); err != nil {
		t.Skip("keepalived is not installed")
	}
	if err := exec.Command("unshare", "-n", "true").Run(); err != nil {
		t.Skip("cannot unshare a network namespace")
	}
	syntax := regexp.MustCompile(`(?i)unknown keyword|missing '}'|unexpected '[{}]'|invalid|expected`)
	for _, f := range []string{"mixed_lvs_vrrp", "vrrp_only", "checkers", "include_glob"} {
		cfg, err := ParseFile("testdata/good/"+f+".conf", Options{})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), f+".conf")
		if err := os.WriteFile(out, []byte(Render(cfg.Skipped)), 0o644); err != nil {
			t.Fatal(err)
		}
		msg, _ := exec.Command("unshare", "-n", ka, "-t", "-l", "-f", out).CombinedOutput()
		for _, l := range strings.Split(string(msg), "\n") {
			if syntax.MatchString(l) {
				t.Errorf("%s: keepalived: %s", f, l)
			}
		}
	}
}
