package main

import (
	"bytes"
	"runtime/debug"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	info := func(mainVersion string, settings ...string) func() (*debug.BuildInfo, bool) {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/luvs-lb/luvs", Version: mainVersion}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return func() (*debug.BuildInfo, bool) { return bi, true }
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	const rev = "9303dc6a1b2c3d4e5f60718293a4b5c6d7e8f901"
	for _, c := range []struct {
		name string
		set  string
		read func() (*debug.BuildInfo, bool)
		want string
	}{
		{"set by -ldflags -X", "v1.2.3", info("v0.9.0", "vcs.revision", rev), "v1.2.3"},
		{"set, no build info", "1.2.3+git4.abc", none, "1.2.3+git4.abc"},
		{"go install @version", "dev", info("v1.2.3"), "v1.2.3"},
		{"checkout, Go's pseudo-version", "dev", info("v0.0.0-20251202195400-9303dc6a1b2c+dirty", "vcs.revision", rev), "v0.0.0-20251202195400-9303dc6a1b2c+dirty"},
		{"checkout, clean", "dev", info("(devel)", "vcs.revision", rev, "vcs.modified", "false"), "dev-9303dc6a1b2c"},
		{"checkout, modified", "dev", info("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "dev-9303dc6a1b2c+dirty"},
		{"short revision", "dev", info("(devel)", "vcs.revision", "abc"), "dev-abc"},
		{"-buildvcs=false", "dev", info("(devel)"), "dev"},
		{"no build info", "dev", none, "dev"},
		{"empty", "", info(""), "dev"},
	} {
		if got := buildVersion(c.set, c.read); got != c.want {
			t.Errorf("%s: buildVersion = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	if code, stderr := runCaptured(root, "--version"); code != exitOK {
		t.Fatalf("luvs --version: exit %d: %s", code, stderr)
	}
	if want := "luvs version " + version + "\n"; out.String() != want {
		t.Errorf("luvs --version printed %q, want %q", out.String(), want)
	}
}
