package ipvsadm

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

const sample = `-A -t 198.18.0.10:80 -s wrr
-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 3
-a -t 198.18.0.10:80 -r 198.18.1.2:8080 -g -w 0 -x 100 -y 10
-a -t 198.18.0.10:80 -r 198.18.1.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -u [2001:db8::1]:53 -s sh -o -b sh-fallback,sh-port
-a -u [2001:db8::1]:53 -r [2001:db8:1::1]:53 -m -w 1
-A -t 198.18.0.11:443 -s rr -p 600 -M 255.255.255.0
-A -f 7 -6 -s mh -p 30 -M 64
-a -f 7 -6 -r [2001:db8:1::2]:0 -g -w 2
-A --sctp-service 198.18.0.12:3868 -s lc
`

func TestParseSaveRoundTrip(t *testing.T) {
	st, err := Parse("rules", strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if ps := model.Validate(st); len(ps) > 0 {
		t.Fatalf("parsed state invalid: %v", ps)
	}
	var out bytes.Buffer
	if err := Save(&out, ipvs.FromState(st)); err != nil {
		t.Fatal(err)
	}
	// ipvsadm's order: fwmark 0 first by family, protocol, address, port; then fwmarks.
	want := `-A -t 198.18.0.10:80 -s wrr
-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 3
-a -t 198.18.0.10:80 -r 198.18.1.2:8080 -g -w 0 -x 100 -y 10
-a -t 198.18.0.10:80 -r 198.18.1.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -t 198.18.0.11:443 -s rr -p 600 -M 255.255.255.0
-A --sctp-service 198.18.0.12:3868 -s lc
-A -u [2001:db8::1]:53 -s sh -o -b sh-fallback,sh-port
-a -u [2001:db8::1]:53 -r [2001:db8:1::1]:53 -m -w 1
-A -f 7 -6 -s mh -p 30 -M 64
-a -f 7 -6 -r [2001:db8:1::2]:0 -g -w 2
`
	if out.String() != want {
		t.Errorf("save:\n%s\nwant:\n%s", out.String(), want)
	}
	again, err := Parse("saved", &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Services) != len(st.Services) || again.DestCount() != st.DestCount() {
		t.Errorf("round trip lost objects: %d/%d services, %d/%d dests",
			len(again.Services), len(st.Services), again.DestCount(), st.DestCount())
	}
}

func TestParseDefaultsAndEdits(t *testing.T) {
	st, err := Parse("rules", strings.NewReader(`
# comment
-A -t 198.18.0.10:80
-a -t 198.18.0.10:80 -r 198.18.1.1
-A -t 198.18.0.11:80 -p
-e -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 7
-E -t 198.18.0.10:80 -s rr
-a -t 198.18.0.10:80 -r 198.18.1.2
-d -t 198.18.0.10:80 -r 198.18.1.2
-D -t 198.18.0.11:80
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Services) != 1 {
		t.Fatalf("services: %+v", st.Services)
	}
	v := st.Services[0]
	if v.Scheduler != "rr" || len(v.Dests) != 1 {
		t.Fatalf("service: %+v", v)
	}
	d := v.Dests[0]
	if d.Port != 80 || d.Weight != 7 || d.Forward != model.Masquerade {
		t.Errorf("dest: %+v", d)
	}
	st, _ = Parse("rules", strings.NewReader("-A -t 198.18.0.10:80 -p\n-a -t 198.18.0.10:80 -r 198.18.1.1\n-C\n"))
	if len(st.Services) != 0 {
		t.Errorf("-C left %d services", len(st.Services))
	}
	st, _ = Parse("rules", strings.NewReader("-A -t 198.18.0.10:80 -p\n-a -t 198.18.0.10:80 -r 198.18.1.1\n"))
	if s := st.Services[0]; s.Scheduler != "wlc" || !s.Persistent || s.Timeout != 360 || s.Dests[0].Forward != model.DirectRoute || s.Dests[0].Weight != 1 {
		t.Errorf("defaults: %+v", s)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	_, err := Parse("bad.rules", strings.NewReader(`-A -t 198.18.0.10:80 -s wrr
-a -t 198.18.0.10:80 -r 198.18.1.1:80 -w 70000
-a -t 198.18.0.99:80 -r 198.18.1.1:80
-A -t 198.18.0.10:80
-A -t 198.18.0.300:80
-a -t 198.18.0.10:80 -r 198.18.1.1:80 --bogus
-A -t 198.18.0.12:80 -p 0
-A -t 198.18.0.13:80 -M 255.0.255.0 -p
-a -t 198.18.0.10:80 -r 198.18.1.5:80 -w
-t 198.18.0.10:80
`))
	if err == nil {
		t.Fatal("bad rules accepted")
	}
	want := []string{
		`bad.rules:2: invalid value "70000" for -w (want 0..65535)`,
		"bad.rules:3: no such service TCP 198.18.0.99:80",
		"bad.rules:4: service TCP 198.18.0.10:80 already exists",
		`bad.rules:5: invalid service address "198.18.0.300:80"`,
		`bad.rules:6: unknown option "--bogus"`,
		`bad.rules:7: invalid persistence timeout "0"`,
		`bad.rules:8: invalid netmask "255.0.255.0"`,
		"bad.rules:9: option -w needs a value",
		"bad.rules:10: no command",
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

// problems returns the lines of Parse's error, or fails the test when the
// rules were accepted.
func problems(t *testing.T, name, rules string) []string {
	t.Helper()
	_, err := Parse(name, strings.NewReader(rules))
	if err == nil {
		t.Fatalf("rules accepted:\n%s", rules)
	}
	return strings.Split(err.Error(), "\n")
}

func TestParseValidationProblemsNameTheLine(t *testing.T) {
	got := problems(t, "v.rules", `-A -t 198.18.0.10:80 -s nosuch
-A -t 198.18.0.11:0 -s rr
# the tunnel settings of a non-tunnel real server
-A -t 198.18.0.12:80 -s rr
-a -t 198.18.0.12:80 -r 198.18.1.1:80 -m --tun-type gue --tun-port 6080
-a -t 198.18.0.12:80 -r 198.18.1.2:80 -i --tun-type gue
-a -t 198.18.0.12:80 -r 198.18.1.3:80 -m -w 70000
-a -t 198.18.0.12:80 -r 198.18.1.4:80 -m -x 5 -y 10
-A -t 198.18.0.13:80 -s rr
-E -t 198.18.0.13:80 -s sh -b sh-port --pe sip
-A -u 198.18.0.14:53 -s rr
-a -u 198.18.0.14:53 -r [2001:db8::1]:53 -m
`)
	want := []string{
		`v.rules:1: service TCP 198.18.0.10:80: scheduler: unknown scheduler "nosuch"`,
		"v.rules:2: service TCP 198.18.0.11:0: port: port 0 (all ports) is only allowed for persistent services",
		"v.rules:5: service TCP 198.18.0.12:80, real server 198.18.1.1:80: tunnel: tunnel settings need tunnel forwarding",
		"v.rules:6: service TCP 198.18.0.12:80, real server 198.18.1.2:80: tunnel_port: gue tunnels need a port",
		`v.rules:7: invalid value "70000" for -w (want 0..65535)`,
		"v.rules:8: service TCP 198.18.0.12:80, real server 198.18.1.4:80: thresholds: lower threshold 10 is above upper threshold 5",
		"v.rules:10: service TCP 198.18.0.13:80: persistence: timeout, netmask and persistence engine need persistence enabled",
		"v.rules:12: service UDP 198.18.0.14:53, real server [2001:db8::1]:53: address: IPv6 real server in IPv4 service: mixed families need tunnel forwarding",
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if i < len(got) && !strings.HasPrefix(got[i], w) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i+1, got[i], w)
		}
	}
}

func TestParseLongLine(t *testing.T) {
	long := "-A -t 198.18.0.10:80 -s rr " + strings.Repeat(" ", MaxLineLength)
	got := problems(t, "<stdin>", "-A -t 198.18.0.9:80 -s rr\n"+long+"\n-A -t 198.18.0.9:80\n"+long)
	want := []string{
		fmt.Sprintf("<stdin>:2: line longer than %d bytes", MaxLineLength),
		"<stdin>:3: service TCP 198.18.0.9:80 already exists",
		fmt.Sprintf("<stdin>:4: line longer than %d bytes", MaxLineLength),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A line of exactly MaxLineLength bytes (with a CRLF end) is accepted.
	line := func(vip string) string {
		l := "-A -t " + vip + " -s rr"
		return l + strings.Repeat(" ", MaxLineLength-len(l))
	}
	st, err := Parse("r", strings.NewReader(line("198.18.0.10:80")+"\r\n"+line("198.18.0.11:80")))
	if err != nil || len(st.Services) != 2 {
		t.Errorf("lines of %d bytes: %v", MaxLineLength, err)
	}
}

func TestParsePortOutOfRange(t *testing.T) {
	got := problems(t, "p.rules", `-A -t 198.18.0.1:99999 -s rr
-A -u [2001:db8::1]:65536 -s rr
-A -t 198.18.0.1:80 -s rr
-a -t 198.18.0.1:80 -r 198.18.1.1:123456789012345678901234567890
`)
	want := []string{
		`p.rules:1: invalid service address "198.18.0.1:99999": port 99999 out of range 0..65535`,
		`p.rules:2: invalid service address "[2001:db8::1]:65536": port 65536 out of range 0..65535`,
		`p.rules:4: invalid real server address "198.18.1.1:123456789012345678901234567890": port 123456789012345678901234567890 out of range 0..65535`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseAddDeleteIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	rules := addDelete(50000, 50000)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := Parse("r", strings.NewReader(rules))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d lines in %s", strings.Count(rules, "\n"), time.Since(start))
	case <-time.After(20 * time.Second):
		t.Fatal("50,000 services and 50,000 real servers added and deleted: not parsed in 20 s")
	}
}

func TestParseManyRealServers(t *testing.T) {
	// Enough real servers that the service indexes them by key, deleted,
	// edited and added again across the switch.
	var b strings.Builder
	b.WriteString("-A -t 198.18.0.10:80 -s wrr\n-A -t 198.18.0.11:80 -s wrr\n")
	const n = 3 * smallService
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "-a -t 198.18.0.10:80 -r 198.18.1.%d:80 -m -w 1\n", i+1)
		if i%2 == 1 {
			fmt.Fprintf(&b, "-d -t 198.18.0.10:80 -r 198.18.1.%d:80\n", i+1)
		}
	}
	for i := 0; i < n; i += 2 {
		fmt.Fprintf(&b, "-e -t 198.18.0.10:80 -r 198.18.1.%d:80 -m -w 5\n", i+1)
		fmt.Fprintf(&b, "-a -t 198.18.0.11:80 -r 198.18.1.%d:80 -m -w 2\n", i+1)
	}
	fmt.Fprintf(&b, "-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m\n")       // exists
	fmt.Fprintf(&b, "-d -t 198.18.0.10:80 -r 198.18.1.2:80\n")          // deleted
	fmt.Fprintf(&b, "-a -t 198.18.0.10:80 -r 198.18.1.2:80 -m -w 9\n")  // added again
	fmt.Fprintf(&b, "-e -t 198.18.0.10:80 -r 198.18.1.%d:80 -m\n", n+1) // never added
	_, err := Parse("r", strings.NewReader(b.String()))
	lines := strings.Count(b.String(), "\n")
	want := fmt.Sprintf("r:%d: real server 198.18.1.1:80 already exists in TCP 198.18.0.10:80\n"+
		"r:%d: no real server 198.18.1.2:80 in TCP 198.18.0.10:80\n"+
		"r:%d: no real server 198.18.1.%d:80 in TCP 198.18.0.10:80", lines-3, lines-2, lines, n+1)
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
	st, err := Parse("r", strings.NewReader(strings.Join(strings.Split(b.String(), "\n")[:lines-4], "\n")+"\n-a -t 198.18.0.10:80 -r 198.18.1.2:80 -m -w 9\n"))
	if err != nil {
		t.Fatal(err)
	}
	v := st.Services[0]
	if len(v.Dests) != n/2+1 || len(st.Services[1].Dests) != n/2 {
		t.Fatalf("%d and %d real servers, want %d and %d", len(v.Dests), len(st.Services[1].Dests), n/2+1, n/2)
	}
	for j, d := range v.Dests[:n/2] {
		if want := netip.AddrFrom4([4]byte{198, 18, 1, byte(2*j + 1)}); d.Addr != want || d.Weight != 5 {
			t.Errorf("real server %d: %v weight %d, want %v weight 5", j, d.Addr, d.Weight, want)
		}
	}
	if d := v.Dests[n/2]; d.Addr != netip.MustParseAddr("198.18.1.2") || d.Weight != 9 {
		t.Errorf("last real server: %+v", d)
	}
}

// A fwmark is decimal or 0x hex, as in a configuration: 010 is not 8.
func TestParseFWMarkBase(t *testing.T) {
	st, err := Parse("rules", strings.NewReader("-A -f 0x10 -s rr\n"))
	if err != nil || len(st.Services) != 1 || st.Services[0].FWMark != 16 {
		t.Fatalf("0x10: %+v, %v", st, err)
	}
	if _, err := Parse("rules", strings.NewReader("-A -f 010 -s rr\n")); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("010 accepted or without a line: %v", err)
	}
}
