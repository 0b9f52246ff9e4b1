package main

import (
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
