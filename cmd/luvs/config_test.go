package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

func TestDescribeCheck(t *testing.T) {
	for _, tc := range []struct {
		c    model.Check
		want string
	}{
		{model.Check{Kind: model.CheckTCP, Interval: model.DefaultInterval, Timeout: time.Second, Rise: 2, Fall: 3}, `tcp timeout="1s"`},
		{model.Check{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Method: "GET", Path: "/healthz"}, Port: 8080}, `http port=8080 path="/healthz"`},
		{model.Check{Kind: model.CheckDNS, DNS: &model.DNSCheck{Name: "example.test.", Type: "A"}}, `dns name="example.test."`},
		{model.Check{Kind: model.CheckExec, Exec: &model.ExecCheck{Argv: []string{"/bin/check", "-q"}}}, `exec argv={ "/bin/check", "-q" }`},
	} {
		if got := describeCheck(tc.c); got != tc.want {
			t.Errorf("describeCheck = %s, want %s", got, tc.want)
		}
	}
}

// Warnings are printed and the configuration loads; with an error they are
// listed with it, and only errors are counted.
func TestLoadConfigWarnings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.lua")
	os.WriteFile(path, []byte(`virtual_server "198.18.0.10:80" {}`), 0o644)
	var stderr bytes.Buffer
	res, err := loadConfigTo(path, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	if want := path + `:1:1: warning: virtual_server "198.18.0.10:80" has no real servers`; !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr: %q, want %s...", stderr.String(), want)
	}
	os.WriteFile(path, []byte("virtual_server \"198.18.0.10:80\" {}\nvirtual_server \"198.18.0.11:80\" { weight = -1, real_server \"198.18.1.1\" {} }"), 0o644)
	_, err = loadConfigTo(path, &stderr)
	if err == nil || !strings.Contains(err.Error(), "1 problem(s)") || !strings.Contains(err.Error(), ": warning: ") {
		t.Errorf("error: %v", err)
	}
}
