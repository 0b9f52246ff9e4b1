package keepalived

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noFiles is a FileSystem without files, so fuzzed includes read nothing
// from the host.
type noFiles struct{}

func (noFiles) ReadFile(string) ([]byte, error) { return nil, fs.ErrNotExist }
func (noFiles) Glob(string) ([]string, error)   { return nil, nil }

// FuzzParse checks that Parse never panics or hangs, that every error names
// a line of the input and is one "f:LINE: message" line, and that the
// skipped blocks of an accepted configuration render to text that parses
// back to as many blocks.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.conf")
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(string(src))
		}
	}
	f.Add("virtual_server 192.168.0.1 80 {\n real_server 192.168.0.2 80 {\n  HTTP_GET { url { path / } ! }\n real_server 192.168.0.3 80 { }\n}\n")
	f.Add("$A=x\n$B=${A}${A} \\\n  $A \\\n$B\n@x y\n~SEQ(a,1,2) b\n\"unterminated\n{\n}\n}\n")
	f.Fuzz(func(t *testing.T, src string) {
		lines := strings.Count(src, "\n") + 1
		cfg, err := Parse("f", []byte(src), Options{FS: noFiles{}, Limits: Limits{Lines: 20000, TotalSize: 1 << 20}})
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error without lines: %v", err)
			}
			for i, e := range es {
				if e.Pos.File != "f" || e.Pos.Line < 1 || e.Pos.Line > lines || (i > 0 && e.Pos.Line < es[i-1].Pos.Line) {
					t.Errorf("error %d: line %d out of 1..%d or out of order: %v", i+1, e.Pos.Line, lines, e)
				}
				if e.Msg == "" || strings.Contains(e.Error(), "\n") {
					t.Errorf("error %d: %q is not one line", i+1, e.Error())
				}
			}
			return
		}
		text := Render(cfg.Skipped)
		if strings.ContainsAny(text, "$@~") || strings.Contains(text, "include") {
			return // substitution and templates apply again to the rendered words
		}
		back, err := Parse("r", []byte(text), Options{FS: noFiles{}})
		if err != nil {
			t.Fatalf("rendered blocks do not parse: %v\n%s", err, text)
		}
		if len(back.Skipped) != len(cfg.Skipped) {
			t.Fatalf("rendered %d blocks, read back %d\n%s", len(cfg.Skipped), len(back.Skipped), text)
		}
	})
}
