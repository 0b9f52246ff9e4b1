package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/testbed"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// The keepalived equivalence test: for each fixture in
// testdata/keepalived, the real keepalived (2.2.7, checker only) builds its
// IPVS table in a lab; then `luvs import keepalived` turns the fixture into
// Lua and luvs builds its table in the same lab (the IPVS state reset in
// between); the two `ipvsadm -S -n` dumps (sorted) must be the same, and
// so must the real servers' connection thresholds (`ipvsadm -L -n
// --thresholds`: -S leaves them out), `ipvsadm -L --timeout` and `ipvsadm
// -L --daemon`.
//
// A fixture's first line says how luvs runs it:
//
//	# luvs-e2e: apply    every check passes: `luvs apply` (no checks) must match
//	# luvs-e2e: daemon   some checks fail or set weights: `luvs run` must
//	                     match once its checks have settled
//
// and where luvs differs from keepalived on purpose, the fixture says so
// (and the test asserts that difference):
//
//	# luvs-e2e-replace: OLD => NEW   luvs has the ipvsadm -S line NEW where
//	                                 keepalived has OLD
//	# luvs-e2e-add: LINE             luvs has the ipvsadm -S line LINE,
//	                                 keepalived has not
//	# luvs-e2e-drop: LINE            keepalived has the ipvsadm -S line LINE,
//	                                 luvs has not
//	# luvs-e2e-daemon: LINE          keepalived runs no sync daemon (its VRRP
//	                                 process would); luvs's ipvsadm -L
//	                                 --daemon is LINE
//
// "@DIR@" in a fixture is replaced with the fixture directory (for include),
// "@TMP@" with a directory of the fixture's own, where
//
//	# luvs-e2e-file: NAME CONTENT    writes CONTENT and a newline to
//	                                 @TMP@/NAME (for track_file)
//
// before keepalived starts.
//
// The lab: backends 1..3 at 198.18.N.2 and 2001:db8:N::2 answer HTTP on
// port 80 ("backendN", md5 in the fixtures' digests), backend 1 DNS on
// 53/udp (www.example.test A), backends 1..3 a UDP echo on port 7 and a
// mail server (see smtpServers) on port 25, with variants that fail a
// check on 26 and 27. Nothing listens on port 81: checks on it fail.

// keepalivedDir finds the fixtures from the repository (go test) or
// /opt/luvs/testdata (the VM).
func keepalivedDir(t *testing.T) string {
	for _, d := range []string{"testdata/keepalived", "e2e/testdata/keepalived", "/opt/luvs/testdata/keepalived"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			abs, _ := filepath.Abs(d)
			return abs
		}
	}
	t.Fatal("testdata/keepalived not found")
	return ""
}

func needKeepalived(t *testing.T) {
	t.Helper()
	needKernel(t)
	if _, err := exec.LookPath("keepalived"); err != nil {
		if os.Getenv("LUVS_E2E") == "1" && os.Getenv("LUVS_KEEPALIVED_REQUIRED") == "1" {
			t.Fatal("LUVS_KEEPALIVED_REQUIRED=1 but keepalived is not in PATH (start the VM with LUVS_VM_EXTRA_BINARIES=keepalived)")
		}
		t.Skip("keepalived not in PATH (start the VM with LUVS_VM_EXTRA_BINARIES=keepalived)")
	}
}

func TestKeepalivedEquivalence(t *testing.T) {
	needKeepalived(t)
	dir := keepalivedDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	if len(files) < 15 {
		t.Fatalf("%d fixtures in %s, want at least 15", len(files), dir)
	}
	// Most of a fixture's time is waiting for tables to settle: run up to
	// 6 at a time whatever -test.parallel is (the VM has few CPUs, so
	// t.Parallel would run them one by one). t.Run may be called from
	// several goroutines.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for _, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(strings.TrimSuffix(filepath.Base(f), ".conf"), func(t *testing.T) {
				keepalivedFixture(t, dir, f)
			})
		}()
	}
	wg.Wait()
}

func keepalivedFixture(t *testing.T, dir, fixture string) {
	src, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	mode := "apply"
	if first, _, _ := strings.Cut(string(src), "\n"); strings.HasPrefix(first, "# luvs-e2e:") {
		mode = strings.TrimSpace(strings.TrimPrefix(first, "# luvs-e2e:"))
	}
	tmp := t.TempDir()
	conf := filepath.Join(tmp, filepath.Base(fixture))
	text := strings.NewReplacer("@DIR@", dir, "@TMP@", tmp).Replace(string(src))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines(string(src)) {
		if f, ok := strings.CutPrefix(l, "# luvs-e2e-file: "); ok {
			name, content, _ := strings.Cut(f, " ")
			if err := os.WriteFile(filepath.Join(tmp, name), []byte(content+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	lab := testbed.NewLab(t)
	var bs []*testbed.Backend
	for i := 1; i <= 3; i++ {
		b := lab.AddBackend(i)
		bs = append(bs, b)
		udpEcho(t, b)
		smtpServers(t, b)
	}
	dns, err := bs[0].StartDNS(map[string]netip.Addr{"www.example.test.": bs[0].Addr4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dns.Stop)

	// keepalived.
	want := runKeepalived(t, lab, conf, tmp)
	resetIPVS(lab)
	if setsThresholds.Match(src) && want.thresholds == "" {
		t.Errorf("the fixture sets uthreshold/lthreshold but keepalived's table has no thresholds (ipvsadm -L -n --thresholds)")
	}

	// luvs.
	lua := filepath.Join(tmp, "x.lua")
	out, err := exec.Command("luvs", "import", "keepalived", conf, "-o", lua).CombinedOutput()
	if err != nil {
		t.Fatalf("luvs import keepalived: %v\n%s", err, out)
	}
	t.Logf("luvs import: %s", out)
	if t.Failed() || testing.Verbose() {
		l, _ := os.ReadFile(lua)
		t.Logf("imported:\n%s", l)
	}
	rules := lines(want.rules)
	for _, l := range lines(string(src)) {
		from, to := "", ""
		if r, ok := strings.CutPrefix(l, "# luvs-e2e-replace: "); ok {
			from, to, _ = strings.Cut(r, " => ")
		} else if r, ok := strings.CutPrefix(l, "# luvs-e2e-drop: "); ok {
			from = r
		} else if r, ok := strings.CutPrefix(l, "# luvs-e2e-add: "); ok {
			to = r
		}
		if from != "" {
			i := slices.Index(rules, from)
			if i < 0 {
				t.Errorf("keepalived's table lacks the line %q the fixture says luvs replaces or drops", from)
			} else {
				rules = slices.Delete(rules, i, i+1)
			}
		}
		if to != "" {
			if slices.Contains(rules, to) {
				t.Errorf("keepalived's table has the line %q the fixture says luvs adds", to)
			}
			rules = append(rules, to)
		}
		if d, ok := strings.CutPrefix(l, "# luvs-e2e-daemon: "); ok {
			if want.daemon != "" {
				t.Errorf("keepalived -C ran a sync daemon: %q", want.daemon)
			}
			want.daemon = d + "\n"
		}
	}
	slices.Sort(rules)
	want.rules = strings.Join(rules, "\n") + "\n"
	var got ipvsState
	switch mode {
	case "apply":
		lab.Run("luvs", "apply", lua)
		got = dumpIPVS(lab)
	case "daemon":
		startDaemon(t, lab, lua)
		deadline := time.Now().Add(40 * time.Second)
		for {
			got = dumpIPVS(lab)
			if got.equal(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	sameLines(t, "ipvsadm -S -n (sorted): keepalived (first) vs luvs "+mode, want.rules, got.rules)
	sameLines(t, "thresholds (ipvsadm -L -n --thresholds): keepalived vs luvs "+mode, want.thresholds, got.thresholds)
	sameLines(t, "ipvsadm -L --timeout: keepalived vs luvs", want.timeout, got.timeout)
	sameLines(t, "ipvsadm -L --daemon: keepalived vs luvs", want.daemon, got.daemon)
}

type ipvsState struct{ rules, thresholds, timeout, daemon string }

func (s ipvsState) equal(o ipvsState) bool { return s == o }

func dumpIPVS(lab *testbed.Lab) ipvsState {
	rules := lines(lab.Run("ipvsadm", "-S", "-n"))
	slices.Sort(rules)
	return ipvsState{
		rules:      strings.Join(rules, "\n") + "\n",
		thresholds: thresholdLines(lab.Run("ipvsadm", "-L", "-n", "--thresholds")),
		timeout:    lab.Run("ipvsadm", "-L", "--timeout"),
		daemon:     lab.Run("ipvsadm", "-L", "--daemon"),
	}
}

// setsThresholds matches a fixture that sets a real server's threshold.
var setsThresholds = regexp.MustCompile(`(?m)^\s*[ul]threshold\s`)

// thresholdLines reduces an `ipvsadm -L -n --thresholds` listing to one
// line per real server that has a threshold, in order: "SERVICE -> SERVER
// uthreshold U lthreshold L" (SERVICE is the service's line: protocol,
// address, scheduler, flags). The real servers without one are in the
// ipvsadm -S comparison already, and the connection counters are not
// configuration. A line it cannot read is kept as it is, to show up in a
// comparison.
func thresholdLines(listing string) string {
	var svc string
	var out []string
	for _, l := range lines(listing) {
		f := strings.Fields(l)
		switch {
		case len(f) == 0, strings.HasPrefix(l, "IP Virtual Server "), strings.HasPrefix(l, "Prot LocalAddress:Port "),
			len(f) == 2 && f[0] == "->" && f[1] == "RemoteAddress:Port":
		case f[0] == "->" && len(f) == 6:
			if f[2] != "0" || f[3] != "0" {
				out = append(out, fmt.Sprintf("%s -> %s uthreshold %s lthreshold %s", svc, f[1], f[2], f[3]))
			}
		case f[0] == "->":
			out = append(out, "unread: "+l)
		default:
			svc = strings.Join(f, " ")
		}
	}
	if len(out) == 0 {
		return ""
	}
	slices.Sort(out)
	return strings.Join(out, "\n") + "\n"
}

// resetIPVS gives the director the IPVS state of a new namespace: no
// services, the kernel's default timeouts, no sync daemon.
func resetIPVS(lab *testbed.Lab) {
	lab.Run("ipvsadm", "-C")
	lab.Run("ipvsadm", "--set", "900", "120", "300")
	for _, s := range []string{"master", "backup"} {
		_, _ = testbed.InNetns(lab.Director, "ipvsadm", "--stop-daemon", s)
	}
}

// runKeepalived runs keepalived's checker in the director until the IPVS
// table has been the same for 3 s (fixtures use delay_loop 1), returns it
// and stops keepalived (which removes its services as it exits).
func runKeepalived(t *testing.T, lab *testbed.Lab, conf, tmp string) ipvsState {
	t.Helper()
	var logs testlog.Buffer
	cmd := exec.Command("ip", "netns", "exec", lab.Director, "keepalived",
		"--check", "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--dont-respawn",
		"--use-file", conf, "--pid", filepath.Join(tmp, "keepalived.pid"),
		"--checkers_pid", filepath.Join(tmp, "checkers.pid"))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		select {
		case <-done:
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	defer stop()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("keepalived logs:\n%s", logs.String())
		}
	})

	start := time.Now()
	var last ipvsState
	stableSince := time.Now()
	for {
		select {
		case <-done:
			t.Fatalf("keepalived exited early:\n%s", logs.String())
		default:
		}
		cur := dumpIPVS(lab)
		if cur != last {
			last, stableSince = cur, time.Now()
		}
		if time.Since(start) > 6*time.Second && time.Since(stableSince) > 3*time.Second && strings.TrimSpace(cur.rules) != "" {
			break
		}
		if time.Since(start) > 60*time.Second {
			t.Fatalf("keepalived's table did not settle in 60 s; last:\n%s\nlogs:\n%s", cur.rules, logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("keepalived's table (settled after %s):\n%s%s%s%s", stableSince.Sub(start).Round(time.Second), last.rules, last.thresholds, last.timeout, last.daemon)
	return last
}

// udpEcho answers every datagram on port 7 with itself, on both families.
func udpEcho(t *testing.T, b *testbed.Backend) {
	t.Helper()
	for _, a := range []netip.Addr{b.Addr4, b.Addr6} {
		var pc net.PacketConn
		if err := testbed.Do(b.NS, func() error {
			var err error
			pc, err = net.ListenPacket("udp", netip.AddrPortFrom(a, 7).String())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 2048)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(buf[:n], from)
			}
		}()
	}
}

// smtpHelos are the names the lab's mail servers welcome after HELO: the
// fixtures' director.example.test and smtpchecker.keepalived.org,
// keepalived's default helo_name. Any other name is refused (550), which
// makes a check that says another name fail.
var smtpHelos = map[string]bool{"director.example.test": true, "smtpchecker.keepalived.org": true}

// smtpServers runs a backend's mail servers, on both families: on port 25
// one that speaks enough SMTP for a health check (a 220 greeting; HELO
// answered with 250 for the names in smtpHelos, 550 for others; 221 to
// QUIT, then it closes); on port 26 one that greets with 421 (busy) and
// closes; on port 27 one like port 25's that closes the connection on QUIT
// without answering it.
func smtpServers(t *testing.T, b *testbed.Backend) {
	t.Helper()
	for port, mode := range map[uint16]string{25: "ok", 26: "busy", 27: "noquit"} {
		for _, a := range []netip.Addr{b.Addr4, b.Addr6} {
			var ln net.Listener
			if err := testbed.Do(b.NS, func() error {
				var err error
				ln, err = net.Listen("tcp", netip.AddrPortFrom(a, port).String())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go serveSMTP(c, b.Name, mode)
				}
			}()
		}
	}
}

// serveSMTP is one connection to a mail server of smtpServers.
func serveSMTP(c net.Conn, name, mode string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if mode == "busy" {
		fmt.Fprintf(c, "421 %s busy, try later\r\n", name)
		return
	}
	fmt.Fprintf(c, "220 %s ESMTP\r\n", name)
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(verb) {
		case "HELO":
			if smtpHelos[arg] {
				fmt.Fprintf(c, "250 %s\r\n", name)
			} else {
				fmt.Fprintf(c, "550 %s: HELO %s not welcome\r\n", name, arg)
			}
		case "QUIT":
			if mode != "noquit" {
				fmt.Fprintf(c, "221 %s closing\r\n", name)
			}
			return
		default:
			fmt.Fprintf(c, "500 %s: unknown command\r\n", name)
		}
	}
}
