package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

func TestExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.rules")
	if err := os.WriteFile(bad, []byte("-A -t 198.18.0.10:80 -s wrr\n-a -t 198.18.0.10:80 -r 198.18.1.1:80 -w 99999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(t.TempDir(), "invalid.rules")
	if err := os.WriteFile(invalid, []byte("-A -t 198.18.0.10:80 -s nosuch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"restore", bad}, exitInput},
		{[]string{"restore", invalid}, exitInput},
		{[]string{"restore", "/nonexistent/rules"}, exitInput},
		{[]string{"list", "--bogus"}, exitInput},
		{[]string{"list", "extra"}, exitInput},
		{[]string{"list", "--stats", "--rate"}, exitInput},
		{[]string{"flush"}, exitInput},
		{[]string{"zero", "198.18.0.300:80"}, exitInput},
		{[]string{"sync", "start", "primary", "--interface", "eth0"}, exitInput},
		{[]string{"nosuchcommand"}, exitInput},
		{[]string{"--help"}, exitOK},
		{[]string{"restore", "--help"}, exitOK},
	} {
		if got := run(c.args); got != c.want {
			t.Errorf("luvs %v: exit %d, want %d", c.args, got, c.want)
		}
	}
	// Without IPVS (as on CI's host) a kernel command fails with exit 1.
	if c, err := ipvs.Open(); err == nil {
		c.Close()
	} else if got := run([]string{"list"}); got != exitFailure {
		t.Errorf("luvs list without IPVS: exit %d, want %d", got, exitFailure)
	}
}

// runCaptured runs a command line of root and returns its exit code and
// what it wrote to stderr.
func runCaptured(root *cobra.Command, args ...string) (int, string) {
	var stderr bytes.Buffer
	code := runRoot(root, args, &stderr)
	return code, stderr.String()
}

func TestPanicIsInternalError(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"test-panic"}, "luvs: internal error: test panic\n"},
		{[]string{"test-panic", "--index"}, "luvs: internal error: runtime error: index out of range [5] with length 0\n"},
		{[]string{"restore", "--test-panic"}, "luvs: internal error: test panic in restore\n"},
	} {
		// The panicking command and flag exist in this test only, not in the
		// shipped command line.
		root := newRoot()
		testPanic := &cobra.Command{
			Use:    "test-panic",
			Hidden: true,
			RunE: func(cmd *cobra.Command, args []string) error {
				if index, _ := cmd.Flags().GetBool("index"); index {
					_ = args[5] // a runtime error
				}
				panic("test panic")
			},
		}
		testPanic.Flags().Bool("index", false, "")
		root.AddCommand(testPanic)
		for _, sub := range root.Commands() {
			if sub.Name() == "restore" {
				sub.Flags().Bool("test-panic", false, "")
				sub.RunE = func(*cobra.Command, []string) error { panic("test panic in restore") }
			}
		}
		code, stderr := runCaptured(root, c.args...)
		if code != exitInternal {
			t.Errorf("luvs %v: exit %d, want %d", c.args, code, exitInternal)
		}
		if !strings.HasPrefix(stderr, c.want) || !strings.Contains(stderr, "goroutine ") || !strings.Contains(stderr, "main_test.go:") {
			t.Errorf("luvs %v: stderr:\n%s\nwant %q and a stack trace", c.args, stderr, c.want)
		}
	}
	if _, _, err := newRoot().Find([]string{"test-panic"}); err == nil {
		t.Error("the shipped command line has a test-panic command")
	}
	if help := helpText(); !strings.Contains(help, "3 internal error") {
		t.Errorf("exit code 3 not in --help:\n%s", help)
	}
}

func helpText() string {
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetArgs([]string{"--help"})
	root.Execute()
	return out.String()
}

func TestRestoreProblemsNameTheLine(t *testing.T) {
	rules := "-A -t 198.18.0.10:80 -s nosuch\n-A -t 198.18.0.11:0 -s rr\n-A -t 198.18.0.1:99999\n-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m --tun-port 6080\n"
	file := filepath.Join(t.TempDir(), "v.rules")
	if err := os.WriteFile(file, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	want := func(name string) string {
		return "luvs: " + name + ": 4 problem(s), nothing applied:\n" +
			name + `:1: service TCP 198.18.0.10:80: scheduler: unknown scheduler "nosuch" (one of ` + model.SchedulerNames() + ")\n" +
			name + ":2: service TCP 198.18.0.11:0: port: port 0 (all ports) is only allowed for persistent services\n" +
			name + `:3: invalid service address "198.18.0.1:99999": port 99999 out of range 0..65535` + "\n" +
			name + ":4: service TCP 198.18.0.10:80, real server 198.18.1.1:80: tunnel: tunnel settings need tunnel forwarding\n"
	}
	code, stderr := runCaptured(newRoot(), "restore", "--dry-run", file)
	if code != exitInput || stderr != want(file) {
		t.Errorf("restore FILE: exit %d, stderr:\n%s\nwant exit 2 and:\n%s", code, stderr, want(file))
	}
	for _, args := range [][]string{{"restore", "--dry-run"}, {"restore", "--dry-run", "-"}} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		stdin := os.Stdin
		os.Stdin = f
		code, stderr := runCaptured(newRoot(), args...)
		os.Stdin = stdin
		f.Close()
		if code != exitInput || stderr != want("<stdin>") {
			t.Errorf("luvs %v: exit %d, stderr:\n%s\nwant exit 2 and:\n%s", args, code, stderr, want("<stdin>"))
		}
	}
}

func TestListedService(t *testing.T) {
	for _, c := range []struct {
		args                   []string
		tcp, udp, sctp, fwmark string
		ipv6                   bool
		want                   string // "" for none, "!" for an error
	}{
		{nil, "", "", "", "", false, ""},
		{[]string{"198.18.0.10:80"}, "", "", "", "", false, "TCP 198.18.0.10:80"},
		{nil, "198.18.0.10:80", "", "", "", false, "TCP 198.18.0.10:80"},
		{nil, "", "[2001:db8::1]:53", "", "", false, "UDP [2001:db8::1]:53"},
		{nil, "", "", "198.18.0.10:3868", "", false, "SCTP 198.18.0.10:3868"},
		{nil, "", "", "", "7", true, "FWM 7 IPv6"},
		{nil, "", "", "", "7", false, "FWM 7"},
		{[]string{"198.18.0.10:80"}, "198.18.0.10:80", "", "", "", false, "!"},
		{nil, "198.18.0.10:80", "", "", "", true, "!"},
		{nil, "198.18.0.300:80", "", "", "", false, "!"},
	} {
		k, one, err := listedService(c.args, c.tcp, c.udp, c.sctp, c.fwmark, c.ipv6)
		got := ""
		switch {
		case err != nil:
			got = "!"
		case one:
			got = k.String()
		}
		if got != c.want {
			t.Errorf("%+v: got %q (%v), want %q", c, got, err, c.want)
		}
	}
}
