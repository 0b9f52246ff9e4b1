package check

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// serveSMTP answers each connection with greeting, then heloReply to the
// HELO line, and records the HELO line.
func serveSMTP(ln net.Listener, greeting, heloReply string, helos chan<- string) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Write([]byte(greeting))
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				helos <- strings.TrimSpace(line)
				c.Write([]byte(heloReply))
			}()
		}
	}()
}

func TestSMTP(t *testing.T) {
	needNet(t)
	helos := make(chan string, 10)
	good := listen(t, addr1)
	serveSMTP(good, "220-mail.example ESMTP\r\n220 ready\r\n", "250 hello\r\n", helos)
	c := mustNew(t, model.Check{Kind: model.CheckSMTP, SMTP: &model.SMTPCheck{Helo: "director.example"}})
	wantUp(t, probe(t, c, targetOf(good.Addr()), time.Second), "HELO answered with 250")
	if h := <-helos; h != "HELO director.example" {
		t.Errorf("the server got %q", h)
	}
	busy := listen(t, addr1)
	serveSMTP(busy, "421 too busy\r\n", "", helos)
	wantDown(t, probe(t, c, targetOf(busy.Addr()), time.Second), "greeting: 421 too busy")
	refuses := listen(t, addr2)
	serveSMTP(refuses, "220 ready\r\n", "550 go away\r\n", helos)
	dflt := mustNew(t, model.Check{Kind: model.CheckSMTP})
	wantDown(t, probe(t, dflt, targetOf(refuses.Addr()), time.Second), "HELO: 550 go away")
	if h := <-helos; h != "HELO localhost" {
		t.Errorf("default HELO %q", h)
	}
	wantDown(t, probe(t, c, Target{Addr: addr1, Port: unusedPort(t, "tcp", addr1)}, time.Second), "connection refused")
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web1")
	c := mustNew(t, model.Check{Kind: model.CheckFile, File: &model.FileCheck{Path: path}})
	dyn := mustNew(t, model.Check{Kind: model.CheckFile, File: &model.FileCheck{Path: path, DynamicWeight: true}})
	tgt := Target{Addr: addr1, Port: 80}
	wantDown(t, probe(t, c, tgt, time.Second), "no such file or directory")
	for _, tc := range []struct {
		content string
		up      bool
		msg     string
		dynUp   bool
		weight  int
	}{
		{"0\n", true, "says 0", true, 0},
		{" 7 ", false, "says 7", true, 7},
		{"maint", false, `holds "maint", not a number`, false, -1},
		{"-1", false, "says -1", false, -1},
	} {
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		r := probe(t, c, tgt, time.Second)
		if r.OK != tc.up || !strings.Contains(r.Msg, tc.msg) {
			t.Errorf("file %q: %s, want up=%v with %q", tc.content, fmtResult(r), tc.up, tc.msg)
		}
		r = probe(t, dyn, tgt, time.Second)
		if r.OK != tc.dynUp || (tc.dynUp && r.Weight != tc.weight) {
			t.Errorf("file %q, dynamic_weight: %s, want up=%v weight %d", tc.content, fmtResult(r), tc.dynUp, tc.weight)
		}
	}
	if _, err := New(model.Check{Kind: model.CheckFile, File: &model.FileCheck{Path: "relative"}}); err == nil || !strings.Contains(err.Error(), "must be absolute") {
		t.Errorf("relative path: %v", err)
	}
}
