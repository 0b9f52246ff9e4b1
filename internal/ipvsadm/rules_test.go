package ipvsadm

import (
	"bytes"
	"strings"
	"testing"

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
	if s := st.Services[0]; s.Scheduler != "wlc" || !s.Persistent || s.Timeout != 300 || s.Dests[0].Forward != model.DirectRoute || s.Dests[0].Weight != 1 {
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
