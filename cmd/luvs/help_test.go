package main

import (
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
