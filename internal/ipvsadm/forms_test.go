package ipvsadm

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// The spellings ipvsadm -R accepts (checked against ipvsadm 1.31 in the VM):
// long options, --opt=value, clustered and attached short options.
func TestParseForms(t *testing.T) {
	rules := `--add-service --tcp-service 198.18.0.10:80 --scheduler=sh --sched-flags=sh-port --persistent 20 --netmask 255.255.255.0
--add-server --tcp-service 198.18.0.10:80 --real-server 198.18.1.1:80 --masquerading --weight 3 --u-threshold 9 --l-threshold 2
-a -t 198.18.0.10:80 -r 198.18.1.2 --ipip --tun-type=gue --tun-port 6080 --tun-remcsum
-a -t198.18.0.10:80 -r198.18.1.3 --gatewaying -w0
ipvsadm -At 198.18.0.11:0 -s rr -p
-A --udp-service [2001:db8::1]:53 -o -s rr
-A --sctp-service 198.18.0.12:3868 -s lc
-A --fwmark-service 7 --ipv6 -s mh -b mh-fallback,mh-port
-a -f 7 -6 -r [2001:db8:1::2] --masquerading
-A -f 8 -s rr -M 255.255.0.0
-a -t 198.18.0.11:0 -r 198.18.1.9 -m
-a -u [2001:db8::1]:53 -r [2001:db8:1::1] -i --tun-type gre --tun-csum
`
	st, err := Parse("r", strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Save(&out, ipvs.FromState(st)); err != nil {
		t.Fatal(err)
	}
	want := `-A -t 198.18.0.10:80 -s sh -p 20 -M 255.255.255.0 -b sh-port
-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 3 -x 9 -y 2
-a -t 198.18.0.10:80 -r 198.18.1.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum
-a -t 198.18.0.10:80 -r 198.18.1.3:80 -g -w 0
-A -t 198.18.0.11:0 -s rr -p 360
-a -t 198.18.0.11:0 -r 198.18.1.9:0 -m -w 1
-A --sctp-service 198.18.0.12:3868 -s lc
-A -u [2001:db8::1]:53 -s rr -o
-a -u [2001:db8::1]:53 -r [2001:db8:1::1]:53 -i -w 1 --tun-type gre --tun-csum
-A -f 7 -6 -s mh -b mh-fallback,mh-port
-a -f 7 -6 -r [2001:db8:1::2]:0 -m -w 1
-A -f 8 -s rr
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// ipvsadm's option checks: each option once, and only with the commands
// that take it.
func TestParseOptionChecks(t *testing.T) {
	got := problems(t, "o.rules", `-A -t 198.18.0.10:80 -s rr -x 5
-A -t 198.18.0.11:80 -s rr
-a -t 198.18.0.11:80 -r 198.18.1.1 -s rr
-a -t 198.18.0.11:80 -r 198.18.1.1 -w 3 -w 4
-a -t 198.18.0.11:80 -r 198.18.1.1 -g -m
-D -t 198.18.0.11:80 -s rr
-d -t 198.18.0.11:80 -r 198.18.1.1 -w 2
-C -t 198.18.0.11:80
-A -t 198.18.0.12:80 -t 198.18.0.13:80
`)
	want := []string{
		"o.rules:1: illegal 'u-threshold' option with the 'add-service' command",
		"o.rules:3: illegal 'scheduler' option with the 'add-server' command",
		"o.rules:4: multiple 'weight' options specified",
		"o.rules:5: multiple 'forwarding-method' options specified",
		"o.rules:6: illegal 'scheduler' option with the 'delete-service' command",
		"o.rules:7: illegal 'weight' option with the 'delete-server' command",
		"o.rules:8: illegal 'service-address' option with the 'flush' command",
		"o.rules:9: multiple 'service-address' options specified",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func mustParse(t *testing.T, rules string) *model.State {
	t.Helper()
	st, err := Parse("base", strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Replay works on the kernel's table as ipvsadm -R does, except that the
// same rules restored twice change nothing.
func TestReplayOnBase(t *testing.T) {
	base := mustParse(t, `-A -t 198.18.0.10:80 -s rr
-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 2
-a -t 198.18.0.10:80 -r 198.18.1.2:80 -m -w 2
-A -t 198.18.0.11:80 -s rr
-a -t 198.18.0.11:80 -r 198.18.1.1:80 -m
-A -t 198.18.0.12:80 -s rr
-A -t 198.18.0.13:80 -s rr
`)
	res, err := Replay("r", strings.NewReader(`-e -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 5
-d -t 198.18.0.10:80 -r 198.18.1.2:80
-E -t 198.18.0.11:80 -s wrr
-D -t 198.18.0.12:80
-A -t 198.18.0.14:80 -s rr
`), base)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_ = Save(&out, ipvs.FromState(res.State))
	want := `-A -t 198.18.0.10:80 -s rr
-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 5
-A -t 198.18.0.11:80 -s wrr
-a -t 198.18.0.11:80 -r 198.18.1.1:80 -m -w 1
-A -t 198.18.0.14:80 -s rr
`
	if out.String() != want {
		t.Errorf("state:\n%s\nwant:\n%s", out.String(), want)
	}
	k12 := base.Services[2].ServiceKey
	k13 := base.Services[3].ServiceKey
	if res.Cleared || !res.Owned(k12) || res.Owned(k13) {
		t.Errorf("cleared %v, owned 12 %v (want true), 13 %v (want false)", res.Cleared, res.Owned(k12), res.Owned(k13))
	}

	// The table's own rules, restored on it, replace what they name.
	var saved bytes.Buffer
	_ = Save(&saved, ipvs.FromState(base))
	res, err = Replay("r", &saved, base)
	if err != nil || len(res.State.Services) != 4 || res.State.DestCount() != 3 || len(res.Deleted) != 0 {
		t.Fatalf("own rules: %v %+v", err, res)
	}
	// -C clears the base table; an -A after it starts afresh.
	res, err = Replay("r", strings.NewReader("-C\n-A -t 198.18.0.10:80 -s rr\n"), base)
	if err != nil || !res.Cleared || len(res.State.Services) != 1 || len(res.State.Services[0].Dests) != 0 {
		t.Fatalf("-C: %v %+v", err, res)
	}
	// What ipvsadm refuses stays refused once the rules mention the object.
	_, err = Replay("r", strings.NewReader(`-E -t 198.18.0.10:80 -s rr
-A -t 198.18.0.10:80 -s rr
-a -t 198.18.0.11:80 -r 198.18.1.1:80 -m
-a -t 198.18.0.11:80 -r 198.18.1.1:80 -m
-D -t 198.18.0.12:80
-D -t 198.18.0.12:80
-d -t 198.18.0.13:80 -r 198.18.1.1
`), base)
	wantErr := `r:2: service TCP 198.18.0.10:80 already exists
r:4: real server 198.18.1.1:80 already exists in TCP 198.18.0.11:80
r:6: no such service TCP 198.18.0.12:80
r:7: no real server 198.18.1.1:80 in TCP 198.18.0.13:80`
	if err == nil || err.Error() != wantErr {
		t.Errorf("got:\n%v\nwant:\n%s", err, wantErr)
	}
}

// ipvsadm -S without -n prints ports as service names.
func TestParsePortNames(t *testing.T) {
	if p, err := net.LookupPort("tcp", "http"); err != nil || p != 80 {
		t.Skip("no /etc/services entry for http here")
	}
	st, err := Parse("r", strings.NewReader("-A -t 198.18.0.10:http -s rr\n-a -t 198.18.0.10:http -r 198.18.1.1:http -m\n-A -t [2001:db8::1]:https -s rr\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Services[0]; s.Port != 80 || s.Dests[0].Port != 80 || st.Services[1].Port != 443 {
		t.Errorf("ports: %+v", st.Services)
	}
	got := problems(t, "r", "-A -t 198.18.0.10:nosuchservice -s rr\n")
	if len(got) != 1 || !strings.Contains(got[0], `unknown service name "nosuchservice"`) {
		t.Errorf("%v", got)
	}
}
