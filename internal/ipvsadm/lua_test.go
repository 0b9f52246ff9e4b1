package ipvsadm

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/luaconf"
	"github.com/luvs-lb/luvs/internal/model"
)

// Rules using every field the rule format can express.
const everyField = `-A -t 198.18.0.10:80 -s wrr
-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 3
-a -t 198.18.0.10:80 -r 198.18.1.2:8080 -m -w 0 -x 100 -y 10
-A -t 198.18.0.11:443 -s rr -p 600 -M 255.255.255.0
-a -t 198.18.0.11:443 -r 198.18.1.1 -g
-a -t 198.18.0.11:443 -r 198.18.1.3 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum
-a -t 198.18.0.11:443 -r 198.18.1.4 -i --tun-type gue --tun-port 6081 --tun-remcsum
-a -t 198.18.0.11:443 -r 198.18.1.5 -i --tun-type gre --tun-csum
-a -t 198.18.0.11:443 -r 198.18.1.6 -i --tun-type gre
-a -t 198.18.0.11:443 -r 198.18.1.7 -i
-a -t 198.18.0.11:443 -r 198.18.1.8 -i --tun-type ipip -x 5
-A -t 198.18.0.12:0 -s lc -p
-a -t 198.18.0.12:0 -r 198.18.1.1 -g -w 65535
-A -u [2001:db8::1]:53 -s sh -o -b sh-fallback,sh-port
-a -u [2001:db8::1]:53 -r [2001:db8:1::1]:53 -m -w 1
-a -u [2001:db8::1]:53 -r 198.18.1.9:53 -i
-A -u 198.18.0.13:5060 -s rr -p 30 --pe sip
-A --sctp-service 198.18.0.14:3868 -s lc
-a --sctp-service 198.18.0.14:3868 -r 198.18.1.1 -g
-A --sctp-service [2001:db8::2]:3868 -s mh -b mh-port -p 40 -M 64
-a --sctp-service [2001:db8::2]:3868 -r [2001:db8:1::2] -g
-A -f 7 -6 -s mh -p 30 -M 64 -b mh-fallback
-a -f 7 -6 -r [2001:db8:1::2]:0 -g -w 2
-a -f 7 -6 -r [2001:db8:1::3]:8080 -m
-A -f 8 -s dh -o
-a -f 8 -r 198.18.1.1 -i -w 4
-A -f 4294967295 -s rr -b flag-3
-A -t 198.18.0.15:80 -s wlc
-A -t 198.18.0.16:80 -s fo
-a -t 198.18.0.16:80 -r 198.18.1.1 -m -w 5
-a -t 198.18.0.16:80 -r 198.18.1.2 -m -w 4
`

// luvs apply of the generated configuration asks for exactly the table
// luvs restore of the rules asks for.
func TestWriteLuaLoadsToTheSameTable(t *testing.T) {
	want, err := Parse("rules", strings.NewReader(everyField))
	if err != nil {
		t.Fatal(err)
	}
	var lua bytes.Buffer
	if err := WriteLua(&lua, want, "rules"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "imported.lua")
	if err := os.WriteFile(file, lua.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := luaconf.Load(file, luaconf.Options{})
	if err != nil {
		t.Fatalf("generated configuration does not load: %v\n%s", err, lua.String())
	}
	defer res.Close()
	if len(res.Warnings) > 0 {
		t.Logf("warnings (about the rules' table, not the translation): %v", res.Warnings)
	}
	got := res.Config.State()
	if ops := diff.Plan(got, want, diff.Options{}); len(ops) > 0 {
		t.Errorf("the configuration asks for a different table: %v\n%s", ops, lua.String())
	}
	if ops := diff.Plan(want, got, diff.Options{}); len(ops) > 0 {
		t.Errorf("the configuration asks for a different table: %v\n%s", ops, lua.String())
	}
	normalizeState(want)
	normalizeState(got)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("states differ:\nrules %+v\nlua   %+v\n%s", want, got, lua.String())
	}
	var a, b bytes.Buffer
	_ = Save(&a, ipvs.FromState(want))
	_ = Save(&b, ipvs.FromState(got))
	if a.String() != b.String() {
		t.Errorf("saved:\n%s\nwant:\n%s", b.String(), a.String())
	}
}

func normalizeState(st *model.State) {
	for i := range st.Services {
		s := &st.Services[i]
		if s.Persistent && s.NetmaskBits == 0 {
			s.NetmaskBits = s.Netmask()
		}
		if s.Dests == nil {
			s.Dests = []model.Dest{}
		}
	}
}

func TestWriteLuaLayout(t *testing.T) {
	st, err := Parse("rules", strings.NewReader(`-A -t 198.18.0.10:80 -s wrr -p 600 -M 255.255.255.0
-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 3
-a -t 198.18.0.10:80 -r 198.18.1.2:80 -m
-A -f 7 -6 -s mh -b mh-fallback
-a -f 7 -6 -r [2001:db8:1::2] -g
-a -f 7 -6 -r [2001:db8:1::3] -i --tun-type gue --tun-port 6080 -x 10 -y 5
`))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = WriteLua(&b, st, "r.rules")
	want := `-- luvs configuration imported from the ipvsadm rules in r.rules
-- (no health checks: add check = ... to a virtual_server or defaults to get some)

virtual_server "198.18.0.10:80" {
  scheduler = "wrr", persistence = "600s", netmask = "255.255.255.0", forward = "nat",
  real_server "198.18.1.1:80" { weight = 3 },
  real_server "198.18.1.2:80" {},
}

virtual_server "fwmark6:7" {
  scheduler = "mh", sched_flags = "mh-fallback",
  real_server "[2001:db8:1::2]" { forward = "dr" },
  real_server "[2001:db8:1::3]" { forward = "tunnel", tunnel_type = "gue", tunnel_port = 6080, upper_threshold = 10, lower_threshold = 5 },
}
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
