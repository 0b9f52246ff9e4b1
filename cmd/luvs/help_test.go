package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHelpNamesNoRepositoryFiles: the help texts (and so the man pages) are
// read with an installed binary, where the source tree's files are not at
// hand: they name installed paths (/etc/luvs, /usr/share/doc/luvs) instead.
// A script of the source tree may be named as such ("luvs's source tree ...
// scripts/bench").
func TestHelpNamesNoRepositoryFiles(t *testing.T) {
	repoFile := regexp.MustCompile(`(?:^|[^\w/.])(?:examples|docs|internal|e2e|vm|third_party|cmd)/[\w./-]+`)
	script := regexp.MustCompile(`(?:^|[^\w/.])scripts/[\w./-]+`)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		texts := map[string]string{"Short": c.Short, "Long": c.Long, "Example": c.Example}
		c.Flags().VisitAll(func(f *pflag.Flag) { texts["--"+f.Name] = f.Usage })
		for what, s := range texts {
			if m := repoFile.FindString(s); m != "" {
				t.Errorf("%s %s names a file of the source tree (%q): %s", c.CommandPath(), what, strings.TrimSpace(m), s)
			}
			if m := script.FindString(s); m != "" && !strings.Contains(s, "source tree") {
				t.Errorf("%s %s names a script (%q) without saying it is in the source tree: %s", c.CommandPath(), what, strings.TrimSpace(m), s)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
}

func TestGenMan(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
	dir := t.TempDir()
	if code, stderr := runCaptured(newRoot(), "gen-man", dir); code != exitOK {
		t.Fatalf("luvs gen-man: exit %d: %s", code, stderr)
	}
	for _, page := range []string{"luvs.1", "luvs-run.1", "luvs-server-drain.1", "luvs-completion-bash.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatal(err)
		}
		if s := string(b); !strings.Contains(s, `"Jan 2026" "luvs `+version+`" "luvs manual"`) || strings.Contains(s, "Auto generated") {
			t.Errorf("%s: unexpected header or footer:\n%s", page, s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "luvs-gen-man.1")); err == nil {
		t.Error("the hidden gen-man command has a page")
	}
}
