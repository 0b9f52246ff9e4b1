package ipvsadm

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// FuzzParse checks that Parse never panics or hangs, that every problem it
// reports names a line of the input, one problem a line, and that rules it
// accepts are valid and survive Save and Parse again unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		sample,
		"# comment\n\n-A -t 198.18.0.10:80\n-a -t 198.18.0.10:80 -r 198.18.1.1\n-E -t 198.18.0.10:80 -s rr\n-e -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 7\n-d -t 198.18.0.10:80 -r 198.18.1.1\n-D -t 198.18.0.10:80\n",
		"ipvsadm -A -t 198.18.0.10:80 -p\r\nipvsadm -a -t 198.18.0.10:80 -r 198.18.1.1\r\n-C\r\n-A -f 1 -6 -s mh -b mh-fallback\n",
		"-A -t 198.18.0.1:99999 -s rr\n-A -u [2001:db8::1]:65536\n-a -t 198.18.0.1:80 -r 198.18.1.1:123456789012345678901234567890\n",
		"-A -t 198.18.0.10:80 -s nosuch\n-A -t 198.18.0.11:0 -s rr\n-A -t 198.18.0.12:80 -s sh -b sh-port --pe sip\n",
		"-A -t 198.18.0.12:80\n-a -t 198.18.0.12:80 -r 198.18.1.1:80 -m --tun-type gue --tun-port 6080\n-a -t 198.18.0.12:80 -r 198.18.1.2:80 -i --tun-type gue\n-a -t 198.18.0.12:80 -r 198.18.1.3:80 -i --tun-type gre --tun-csum --tun-remcsum\n",
		"-A -t 198.18.0.10:80 -s wrr\n-a -t 198.18.0.10:80 -r 198.18.1.1:80 -w 70000\n-a -t 198.18.0.99:80 -r 198.18.1.1:80\n-A -t 198.18.0.10:80\n-A -t 198.18.0.300:80\n--bogus\n-A -t 198.18.0.12:80 -p 0\n-A -t 198.18.0.13:80 -M 255.0.255.0 -p\n-a -w\n-t 198.18.0.10:80\n",
		"-A -u [2001:db8::1]:53 -s rr\n-a -u [2001:db8::1]:53 -r 198.18.1.1:53 -m\n-A -t [fe80::1%eth0]:80\n-A -t host.example:80\n-A -t [::ffff:198.18.0.1]:80\n",
		"-A -t 198.18.0.10:80 -s rr -x 5 -y 10\n-A -A\n-a\n-D\n-C -C\n\x00\n\t\v\f-A\n",
		"--add-service --tcp-service=198.18.0.10:80 --scheduler=wrr --persistent=20\n-At198.18.0.11:0 -p60\n-a -t198.18.0.11:0 -r198.18.1.1 -mw3\n-a -t 198.18.0.11:0 -r 198.18.1.2 -w 1 -w 2 -x 3\n-A -f 6 -s rr -M 255.255.0.0\n-Dt 198.18.0.10:80 -s rr\n",
		"-A -t 198.18.0.10:80 -s rr " + strings.Repeat(" ", 70000) + "\n-a -t 198.18.0.10:80 -r 198.18.1.1:80",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rules string) {
		st, err := Parse("f", strings.NewReader(rules))
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error without lines: %v", err)
			}
			lines := strings.Count(rules, "\n") + 1
			for i, e := range es {
				if e.Name != "f" || e.Line < 1 || e.Line > lines || (i > 0 && e.Line < es[i-1].Line) {
					t.Errorf("problem %d of %d: line %d out of 1..%d or out of order: %v", i+1, len(es), e.Line, lines, e)
				}
				if e.Msg == "" || strings.Contains(e.Msg, "\n") || !strings.HasPrefix(e.Error(), fmt.Sprintf("f:%d: ", e.Line)) {
					t.Errorf("problem %d: %q is not one FILE:LINE: message line", i+1, e.Error())
				}
			}
			return
		}
		if ps := model.Validate(st); len(ps) > 0 {
			t.Fatalf("accepted an invalid table: %v", ps)
		}
		var saved bytes.Buffer
		if err := Save(&saved, ipvs.FromState(st)); err != nil {
			t.Fatal(err)
		}
		again, err := Parse("saved", bytes.NewReader(saved.Bytes()))
		if err != nil {
			t.Fatalf("saved rules do not parse: %v\n%s", err, saved.String())
		}
		if ops := diff.Plan(st, again, diff.Options{}); len(ops) > 0 {
			t.Fatalf("save and parse changed the table: %v\n%s", ops, saved.String())
		}
	})
}
