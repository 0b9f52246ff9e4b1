package e2e

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/testbed"
)

// eventually compares luvs's output with ipvsadm's a few times: counters and
// connection expiry move with time, so luvs must equal ipvsadm's output taken
// just before or just after it.
func eventually(t *testing.T, what string, ipvsadm, luvs func() string) {
	t.Helper()
	var before, got string
	for i := 0; i < 5; i++ {
		before = ipvsadm()
		got = luvs()
		after := ipvsadm()
		if got == before || got == after {
			return
		}
	}
	sameLines(t, what, before, got)
}

// luvs list SERVICE and luvs list -c print what ipvsadm -Ln -t SERVICE and
// ipvsadm -Lnc print, with real connections through the VIPs.
func TestListServiceAndConnections(t *testing.T) {
	needKernel(t)
	vip4, vip6 := netip.MustParseAddr("198.18.0.10"), netip.MustParseAddr("2001:db8::10")
	lab := testbed.NewLab(t)
	b1, b2 := lab.AddBackend(1), lab.AddBackend(2)
	lab.AddVIP(vip4)
	lab.AddVIP(vip6)
	rules := "-A -t 198.18.0.10:80 -s rr\n" +
		"-a -t 198.18.0.10:80 -r " + b1.Addr4.String() + ":80 -m\n" +
		"-a -t 198.18.0.10:80 -r " + b2.Addr4.String() + ":80 -m -w 2\n" +
		"-A -t [2001:db8::10]:80 -s wrr -p 30\n" +
		"-a -t [2001:db8::10]:80 -r [" + b1.Addr6.String() + "]:80 -m\n" +
		"-a -t [2001:db8::10]:80 -r [" + b2.Addr6.String() + "]:80 -m\n" +
		"-A -u 198.18.0.10:53 -s sh -b sh-port\n" +
		"-a -u 198.18.0.10:53 -r " + b1.Addr4.String() + ":53 -m\n" +
		"-A -f 7 -s rr\n-a -f 7 -r " + b1.Addr4.String() + " -m -x 10 -y 5\n" +
		"-A -f 8 -6 -s mh\n-a -f 8 -6 -r " + b1.Addr6.String() + " -g\n"
	file := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(file, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	lab.Run("luvs", "restore", "-q", file)
	got := lab.Spread(url(vip4), 6)
	got6 := lab.Spread(url(vip6), 3)
	t.Logf("IPv4 %v, IPv6 %v", got, got6)
	if got["error"] > 0 || got6["error"] > 0 {
		t.Fatalf("requests failed: %v %v", got, got6)
	}

	for _, c := range []struct{ ipvsadm, luvs []string }{
		{[]string{"-Ln", "-t", "198.18.0.10:80"}, []string{"list", "198.18.0.10:80"}},
		{[]string{"-Ln", "-t", "198.18.0.10:80"}, []string{"list", "-t", "198.18.0.10:80"}},
		{[]string{"-Ln", "--stats", "-t", "198.18.0.10:80"}, []string{"list", "--stats", "-t", "198.18.0.10:80"}},
		{[]string{"-Ln", "--rate", "-t", "198.18.0.10:80"}, []string{"list", "--rate", "198.18.0.10:80"}},
		{[]string{"-Ln", "-t", "[2001:db8::10]:80"}, []string{"list", "-t", "[2001:db8::10]:80"}},
		{[]string{"-Ln", "--persistent-conn", "-t", "[2001:db8::10]:80"}, []string{"list", "--persistent-conn", "[2001:db8::10]:80"}},
		{[]string{"-Ln", "-u", "198.18.0.10:53"}, []string{"list", "-u", "198.18.0.10:53"}},
		{[]string{"-Ln", "-u", "198.18.0.10:53"}, []string{"list", "udp:198.18.0.10:53"}},
		{[]string{"-Ln", "--thresholds", "-f", "7"}, []string{"list", "--thresholds", "-f", "7"}},
		{[]string{"-Ln", "-f", "8", "-6"}, []string{"list", "-f", "8", "-6"}},
		{[]string{"-Ln", "-f", "8", "-6"}, []string{"list", "fwmark6:8"}},
		{[]string{"-Lnc"}, []string{"list", "-c"}},
		{[]string{"-Lnc", "--persistent-conn"}, []string{"list", "-c", "--persistent-conn"}},
	} {
		eventually(t, "luvs "+strings.Join(c.luvs, " "),
			func() string { return lab.Run("ipvsadm", c.ipvsadm...) },
			func() string { return lab.Run("luvs", c.luvs...) })
	}
	out := lab.Run("luvs", "list", "-c")
	if n := strings.Count(out, "198.18.0.10:80"); n < 6 {
		t.Errorf("luvs list -c shows %d IPv4 connections, want at least 6:\n%s", n, out)
	}
	if !strings.Contains(out, "[2001:db8:200::2]:0 ") {
		t.Errorf("luvs list -c lacks the IPv6 persistence template:\n%s", out)
	}
	var js struct {
		Connections []struct {
			Protocol, Client, Virtual, Destination, State string
			Expires                                       uint32
			VirtualPort                                   uint16 `json:"virtual_port"`
		}
	}
	if err := json.Unmarshal([]byte(lab.Run("luvs", "list", "-c", "--json")), &js); err != nil {
		t.Fatal(err)
	}
	if len(js.Connections) != len(lines(out))-2 {
		t.Errorf("--json: %d connections, the listing %d", len(js.Connections), len(lines(out))-2)
	}
	for _, c := range js.Connections {
		if c.Protocol != "TCP" || c.VirtualPort != 80 || c.State == "" || c.Expires == 0 {
			t.Errorf("--json connection %+v", c)
		}
	}
	if _, err := testbed.InNetns(lab.Director, "luvs", "list", "198.18.0.99:80"); err == nil {
		t.Errorf("luvs list of a missing service succeeded")
	}
}

// luvs restore replays -A/-E/-D/-a/-e/-d/-C rules on the kernel table as
// ipvsadm -R does: after each step both tables are the same.
func TestRestoreLikeIPVSadm(t *testing.T) {
	needKernel(t)
	ref, lab := testbed.NewLab(t), testbed.NewLab(t)
	dir := t.TempDir()
	steps := []string{
		// long options, --opt=value, clustered options, every service kind
		`-A -t 198.18.0.10:80 -s wrr
--add-server --tcp-service 198.18.0.10:80 --real-server 198.18.1.2:80 --masquerading --weight 3 --u-threshold 9 --l-threshold 2
-a -t 198.18.0.10:80 -r 198.18.2.2 -i --tun-type=gue --tun-port 6080 --tun-csum
-a -t 198.18.0.10:80 -r 198.18.3.2 -i --tun-type gre --tun-csum
ipvsadm -At 198.18.0.11:0 -s rr -p
-a -t 198.18.0.11:0 -r 198.18.1.2 -g
--add-service --udp-service [2001:db8::1]:53 --scheduler sh --sched-flags sh-fallback,sh-port --ops
-a -u [2001:db8::1]:53 -r [2001:db8:1::2]:53 -g -w 4
-A --sctp-service 198.18.0.12:3868 -s lc --persistent 100 --netmask 255.255.255.0
-a --sctp-service 198.18.0.12:3868 -r 198.18.1.2 -g
-A -f 7 -6 -s mh -b mh-port -p 30 -M 64
-a -f 7 -6 -r [2001:db8:1::2]:0 -m
-A -f 9 -s rr
-A -t 198.18.0.13:80 -s rr
-a -t 198.18.0.13:80 -r 198.18.1.2 -m
-a -t 198.18.0.13:80 -r 198.18.2.2 -m
`,
		// edits and deletions of what the kernel holds, and a new service
		`-E -t 198.18.0.10:80 -s rr -p 60
-e -t 198.18.0.10:80 -r 198.18.1.2:80 -m -w 7
-d -t 198.18.0.10:80 -r 198.18.3.2
-E -f 9 -s wlc
-D -t 198.18.0.11:0
-d -t 198.18.0.13:80 -r 198.18.2.2
-e -t 198.18.0.13:80 -r 198.18.1.2 -g -w 0
-A -t 198.18.0.14:80 -s lc
-a -t 198.18.0.14:80 -r 198.18.4.2 -m
`,
		// a clear in the middle
		`-C
-A -t 198.18.0.20:80 -s rr
-a -t 198.18.0.20:80 -r 198.18.1.2 -m
-D -t 198.18.0.20:80
-A -t 198.18.0.21:80 -s rr
-a -t 198.18.0.21:80 -r 198.18.1.2 -m -w 2
`,
	}
	for i, rules := range steps {
		file := filepath.Join(dir, "rules")
		if err := os.WriteFile(file, []byte(rules), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := ref.Run("sh", "-c", "ipvsadm -R < "+file); out != "" {
			t.Fatalf("step %d: ipvsadm -R: %s", i+1, out)
		}
		lab.Run("luvs", "restore", file)
		sameLines(t, "restore step "+string(rune('1'+i)), ref.Run("ipvsadm", "-Sn"), lab.Run("ipvsadm", "-Sn"))
		sameLines(t, "restore step "+string(rune('1'+i))+" (thresholds)",
			ref.Run("ipvsadm", "-Ln", "--thresholds"), lab.Run("ipvsadm", "-Ln", "--thresholds"))
	}

	// ipvsadm -Sn | luvs restore, on the same table and on an empty one,
	// then luvs save: the table comes back.
	file := filepath.Join(dir, "rules")
	if err := os.WriteFile(file, []byte(steps[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	ref.Run("sh", "-c", "ipvsadm -C && ipvsadm -R < "+file)
	saved := ref.Run("ipvsadm", "-Sn")
	// (ipvsadm -Sn drops thresholds, so restoring its rules removes them;
	// luvs save keeps them.)
	ref.Run("sh", "-c", "ipvsadm -Sn | luvs restore")
	sameLines(t, "ipvsadm -Sn | luvs restore on the same table", saved, ref.Run("ipvsadm", "-Sn"))
	if out := ref.Run("sh", "-c", "luvs save | luvs restore"); !strings.Contains(out, "0 change(s) applied") {
		t.Errorf("restoring the table's own rules changed something:\n%s", out)
	}
	savedFile := filepath.Join(dir, "saved")
	if err := os.WriteFile(savedFile, []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := testbed.NewLab(t)
	fresh.Run("sh", "-c", "cat "+savedFile+" | luvs restore -q")
	sameLines(t, "ipvsadm -Sn | luvs restore; luvs save", saved, fresh.Run("luvs", "save"))

	// luvs import ipvsadm, then luvs apply: the same table as luvs restore
	// (thresholds included).
	full := filepath.Join(dir, "full")
	if err := os.WriteFile(full, []byte(steps[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	lua := filepath.Join(dir, "imported.lua")
	imp := testbed.NewLab(t)
	imp.Run("luvs", "import", "ipvsadm", full, "-o", lua)
	imp.Run("luvs", "apply", "-q", lua)
	restored := testbed.NewLab(t)
	restored.Run("luvs", "restore", "-q", full)
	sameLines(t, "luvs apply of the imported configuration", restored.Run("luvs", "save"), imp.Run("luvs", "save"))

	// Services the rules do not mention stay, unless --prune.
	sub := filepath.Join(dir, "sub")
	if err := os.WriteFile(sub, []byte("-A -t 198.18.0.30:80 -s rr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh.Run("luvs", "restore", sub)
	if out := fresh.Run("ipvsadm", "-Sn"); !strings.Contains(out, "198.18.0.10:80") || !strings.Contains(out, "198.18.0.30:80") {
		t.Errorf("restore without --prune deleted services:\n%s", out)
	}
	fresh.Run("luvs", "restore", "--prune", sub)
	if out := fresh.Run("ipvsadm", "-Sn"); out != "-A -t 198.18.0.30:80 -s rr\n" {
		t.Errorf("restore --prune left:\n%s", out)
	}
}
