package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportKeepalived(t *testing.T) {
	dir := t.TempDir()
	out, keep := filepath.Join(dir, "lb.lua"), filepath.Join(dir, "keepalived.conf")
	root := newRoot()
	var notes bytes.Buffer
	root.SetErr(&notes)
	code, stderr := runCaptured(root, "import", "keepalived", "../../internal/kimport/testdata/director.conf", "-o", out, "--keepalived-out", keep)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lua, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(lua), `virtual_server "192.0.2.10:80" {`) {
		t.Fatalf("output %v:\n%s", err, lua)
	}
	if !strings.Contains(notes.String(), "director.conf:8: vrrp_instance VI_WEB left to keepalived (--vrrp translates it into luvs's VRRPv3)\n") {
		t.Errorf("stderr lacks the VRRP note:\n%s", notes.String())
	}
	k, err := os.ReadFile(keep)
	if err != nil || !strings.Contains(string(k), "vrrp_instance VI_WEB {") || strings.Contains(string(k), "virtual_server") || strings.Contains(string(k), "lvs_sync_daemon") {
		t.Errorf("--keepalived-out %v:\n%s", err, k)
	}
	// The output loads as luvs check reads it.
	if code, stderr := runCaptured(newRoot(), "check", out); code != exitOK {
		t.Errorf("luvs check of the import: exit %d: %s", code, stderr)
	}

	// Standard output by default.
	root = newRoot()
	var stdout bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&bytes.Buffer{})
	if code, stderr := runCaptured(root, "import", "keepalived", "../../internal/keepalived/testdata/good/params.conf"); code != exitOK || !strings.Contains(stdout.String(), "virtual_server \"192.0.2.70:80\"") {
		t.Errorf("exit %d %s, stdout:\n%s", code, stderr, stdout.String())
	}
}

func TestImportKeepalivedRefusesUnsupported(t *testing.T) {
	dir := t.TempDir()
	out, keep := filepath.Join(dir, "lb.lua"), filepath.Join(dir, "keepalived.conf")
	name := "../../internal/kimport/testdata/unsupported.conf"
	code, stderr := runCaptured(newRoot(), "import", "keepalived", name, "-o", out, "--keepalived-out", keep)
	want := "luvs: " + name + ": 3 problem(s), nothing written:\n" +
		name + ":3: omega is not supported by luvs yet (running quorum_down/notify_down when the daemon stops)\n" +
		name + ":6: BFD_CHECK is not supported by luvs yet\n" +
		name + ":8: bind_port is not supported by luvs yet\n"
	if code != exitInput || stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, stderr, want)
	}
	for _, f := range []string{out, keep} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s written", f)
		}
	}
	// A parse error: all listed, exit 2, nothing written.
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("virtual_server 192.0.2.1 80 {\n  lvs_sched nosuch\n  protocol TCP\n  bogus 1\n}\n"), 0o644)
	code, stderr = runCaptured(newRoot(), "import", "keepalived", bad, "-o", out)
	if code != exitInput || !strings.Contains(stderr, bad+":2: ") || !strings.Contains(stderr, bad+":4: ") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written", out)
	}
}

// What luvs itself refuses in the imported configuration is reported at
// the output's lines, and nothing is written.
func TestImportKeepalivedLuvsRefuses(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "k.conf"), filepath.Join(dir, "lb.lua")
	os.WriteFile(in, []byte("virtual_server 192.0.2.1 80 {\n    protocol TCP\n    sorry_server 198.18.0.1 80\n    real_server 198.18.0.1 80 {\n    }\n}\n"), 0o644)
	code, stderr := runCaptured(newRoot(), "import", "keepalived", in, "-o", out)
	if code != exitInput || !strings.Contains(stderr, out+":") || !strings.Contains(stderr, "sorry_server 198.18.0.1:80 is also a real server of this service") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written", out)
	}
}

// TestMigratingExample: the before-and-after example of docs/migrating.md
// is what `luvs import keepalived` writes for it, to the byte: the Lua, the
// notes on standard error and the keepalived.conf left for VRRP.
func TestMigratingExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/migrating.md")
	if err != nil {
		t.Fatal(err)
	}
	block := func(name string) string {
		marker := "<!-- example: " + name + " -->\n"
		i := bytes.Index(doc, []byte(marker))
		if i < 0 {
			t.Fatalf("docs/migrating.md has no %q", marker)
		}
		rest := string(doc[i+len(marker):])
		open := strings.Index(rest, "\n")
		if !strings.HasPrefix(rest, "```") || open < 0 {
			t.Fatalf("%q is not followed by a fenced block", marker)
		}
		body := rest[open+1:]
		end := strings.Index(body, "```\n")
		if end < 0 {
			t.Fatalf("the block after %q is not closed", marker)
		}
		return body[:end]
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("keepalived.conf", []byte(block("keepalived.conf")), 0o644); err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	var notes bytes.Buffer
	root.SetErr(&notes)
	if code, stderr := runCaptured(root, "import", "keepalived", "keepalived.conf", "-o", "lb.lua", "--keepalived-out", "keepalived-vrrp.conf"); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []struct{ name, got string }{
		{"lb.lua", read(t, "lb.lua")},
		{"stderr", notes.String()},
		{"keepalived-vrrp.conf", read(t, "keepalived-vrrp.conf")},
	} {
		if want := block(f.name); f.got != want {
			t.Errorf("docs/migrating.md shows as %s:\n%s\nthe import writes:\n%s", f.name, want, f.got)
		}
	}
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
