package main

import "runtime/debug"

func init() { version = buildVersion(version, debug.ReadBuildInfo) }

// buildVersion is what `luvs --version` prints. A version the build set
// (scripts/package: -ldflags -X main.version=...) wins; a build that left
// "dev" falls back to what the Go toolchain recorded in the binary: the
// module's version (`go install github.com/luvs-lb/luvs/cmd/luvs@v1.2.3`,
// and, since Go 1.24, a pseudo-version for a build from a git checkout),
// else the checkout's commit (vcs.revision, "+dirty" when vcs.modified).
// A build with neither (-buildvcs=false, a source tarball) stays "dev".
func buildVersion(set string, read func() (*debug.BuildInfo, bool)) string {
	if set != "" && set != "dev" {
		return set
	}
	info, ok := read()
	if !ok || info == nil {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	v := "dev-" + rev[:min(len(rev), 12)]
	if dirty {
		v += "+dirty"
	}
	return v
}

// buildRevision is the commit the binary was built from (vcs.revision),
// empty when the toolchain did not record one.
func buildRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}
