package check

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/model"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the check tables in docs/config.md from the specs")

const configDoc = "../../docs/config.md"

// docBlock matches a generated table: <!-- check-settings: NAME --> ... <!-- end check-settings -->.
var docBlock = regexp.MustCompile(`(?s)(<!-- check-settings: ([a-z, ]+) -->\n).*?(<!-- end check-settings -->)`)

// The tables of check settings in docs/config.md are those of the specs.
// Regenerate them with: go test ./internal/check -run TestConfigDocTables -update-docs
func TestConfigDocTables(t *testing.T) {
	b, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var seen []string
	fresh := docBlock.ReplaceAllStringFunc(doc, func(block string) string {
		m := docBlock.FindStringSubmatch(block)
		seen = append(seen, strings.Split(m[2], ", ")...)
		return m[1] + settingsTable(t, m[2]) + m[3]
	})
	want := []string{"common"}
	for _, s := range Specs() {
		if len(s.Settings) > 0 {
			want = append(want, string(s.Kind))
		}
	}
	slices.Sort(seen)
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Errorf("docs/config.md has tables for %v, want %v", seen, want)
	}
	if fresh == doc {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(configDoc, []byte(fresh), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/config.md check tables differ from the specs; run go test ./internal/check -run TestConfigDocTables -update-docs")
}

// settingsTable renders the settings of "common" or of a list of kinds
// ("http, https": keys not in every kind are marked with the kinds having them).
func settingsTable(t *testing.T, names string) string {
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Meaning |\n|---|---|---|---|\n")
	row := func(s *Spec, st Setting, note string) {
		doc := st.Doc
		if st.Inherits {
			doc += " Inherits."
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s%s |\n", st.Key, st.Type, st.DefaultText(s), doc, note)
	}
	if names == "common" {
		for _, st := range Common {
			row(tcpSpec, st, "")
		}
		return b.String()
	}
	var kinds []*Spec
	for _, k := range strings.Split(names, ", ") {
		s, err := SpecFor(model.CheckKind(k))
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, s)
	}
	var keys []string
	for _, s := range kinds {
		for _, st := range s.Settings {
			if !slices.Contains(keys, st.Key) {
				keys = append(keys, st.Key)
			}
		}
	}
	for _, key := range keys {
		var have []string
		var first *Spec
		var setting Setting
		for _, s := range kinds {
			if i := slices.IndexFunc(s.Settings, func(st Setting) bool { return st.Key == key }); i >= 0 {
				have = append(have, "`"+string(s.Kind)+"`")
				if first == nil {
					first, setting = s, s.Settings[i]
				}
			}
		}
		note := ""
		if len(have) < len(kinds) {
			note = " " + strings.Join(have, ", ") + " only."
		}
		row(first, setting, note)
	}
	return b.String()
}
