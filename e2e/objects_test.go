package e2e

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/testbed"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func tcp(a string, port uint16) model.ServiceKey {
	ad := addr(a)
	return model.ServiceKey{Family: model.FamilyOf(ad), Protocol: model.TCP, Addr: ad, Port: port}
}

func dest(a string, port uint16, w int, fwd model.ForwardMethod) model.Dest {
	return model.Dest{DestKey: model.DestKey{Addr: addr(a), Port: port}, Weight: w, Forward: fwd}
}

func destp(a string, port uint16, w int, fwd model.ForwardMethod) *model.Dest {
	d := dest(a, port, w, fwd)
	return &d
}

// richState exercises every service and real-server field the kernel keeps.
func richState() *model.State {
	udp := model.ServiceKey{Family: model.IPv4, Protocol: model.UDP, Addr: addr("198.18.0.11"), Port: 53}
	sctp := model.ServiceKey{Family: model.IPv6, Protocol: model.SCTP, Addr: addr("2001:db8::12"), Port: 3868}
	fwm4 := model.ServiceKey{Family: model.IPv4, FWMark: 7}
	fwm6 := model.ServiceKey{Family: model.IPv6, FWMark: 8}
	gue := dest("198.18.2.2", 80, 2, model.Tunnel)
	gue.TunnelType, gue.TunnelPort, gue.TunnelFlags = model.TunnelGUE, 6080, model.TunnelCsum
	gre := dest("198.18.3.2", 80, 1, model.Tunnel)
	gre.TunnelType = model.TunnelGRE
	thr := dest("198.18.4.2", 80, 5, model.DirectRoute)
	thr.UpperThreshold, thr.LowerThreshold = 100, 10
	v6in4 := dest("198.18.5.2", 0, 1, model.Tunnel)
	return &model.State{Services: []model.VirtualServer{
		{Service: model.Service{ServiceKey: tcp("198.18.0.10", 80), Scheduler: "wlc"},
			Dests: []model.Dest{dest("198.18.1.2", 8080, 1, model.Masquerade), gue, gre, thr,
				dest("198.18.6.2", 80, 0, model.DirectRoute), dest("198.18.7.2", 80, 65535, model.Tunnel)}},
		{Service: model.Service{ServiceKey: udp, Scheduler: "sh", SchedFlags: model.SchedFlag1 | model.SchedFlag2, OnePacket: true},
			Dests: []model.Dest{dest("198.18.1.2", 53, 1, model.Masquerade), dest("198.18.2.2", 53, 2, model.Masquerade)}},
		{Service: model.Service{ServiceKey: tcp("198.18.0.13", 443), Scheduler: "rr", Persistent: true, Timeout: 600, NetmaskBits: 24},
			Dests: []model.Dest{dest("198.18.1.2", 443, 1, model.DirectRoute)}},
		{Service: model.Service{ServiceKey: tcp("2001:db8::10", 80), Scheduler: "mh", SchedFlags: model.SchedFlag2, Persistent: true, Timeout: 30, NetmaskBits: 64},
			Dests: []model.Dest{dest("2001:db8:1::2", 80, 1, model.Masquerade), dest("2001:db8:2::2", 80, 3, model.DirectRoute)}},
		{Service: model.Service{ServiceKey: sctp, Scheduler: "lc"},
			Dests: []model.Dest{dest("2001:db8:1::2", 3868, 1, model.DirectRoute)}},
		{Service: model.Service{ServiceKey: fwm4, Scheduler: "wrr"},
			Dests: []model.Dest{dest("198.18.1.2", 0, 1, model.DirectRoute), dest("198.18.2.2", 0, 2, model.DirectRoute)}},
		{Service: model.Service{ServiceKey: fwm6, Scheduler: "fo"},
			Dests: []model.Dest{dest("2001:db8:1::2", 0, 1, model.DirectRoute), v6in4}},
		{Service: model.Service{ServiceKey: tcp("198.18.0.15", 80), Scheduler: "ovf"}},
		{Service: model.Service{ServiceKey: tcp("198.18.0.16", 80), Scheduler: "nq"}},
		{Service: model.Service{ServiceKey: tcp("198.18.0.17", 80), Scheduler: "sed"}},
		{Service: model.Service{ServiceKey: tcp("198.18.0.18", 80), Scheduler: "dh"}},
		{Service: model.Service{ServiceKey: tcp("198.18.0.19", 80), Scheduler: "lblc"}},
		{Service: model.Service{ServiceKey: tcp("198.18.0.20", 80), Scheduler: "lblcr"}},
	}}
}

// TestEveryFieldReadsBack creates services and real servers with every
// forwarding method, tunnel type, scheduler, flag and family, then reads the
// table back through luvs (netlink) and through ipvsadm.
func TestEveryFieldReadsBack(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	c := lab.IPVS()
	want := richState()
	if ps := model.Validate(want); len(ps) > 0 {
		t.Fatalf("test state invalid: %v", ps)
	}
	ops := planAll(want)
	res := c.Apply(ops)
	if err := res.Err(); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if res.RoundTrips != 1 {
		t.Errorf("%d ops took %d round trips, want 1", len(ops), res.RoundTrips)
	}
	got, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	normalize(want)
	if !reflect.DeepEqual(want, got) {
		for i := range max(len(want.Services), len(got.Services)) {
			var w, g any
			if i < len(want.Services) {
				w = want.Services[i]
			}
			if i < len(got.Services) {
				g = got.Services[i]
			}
			if !reflect.DeepEqual(w, g) {
				t.Errorf("service %d:\nwant %+v\ngot  %+v", i, w, g)
			}
		}
	}

	// The same table, printed by ipvsadm and by luvs, in every list format.
	for _, f := range [][]string{nil, {"--stats"}, {"--rate"}, {"--thresholds"}, {"--persistent-conn"}, {"--stats", "--exact"}} {
		sameLines(t, "luvs list "+strings.Join(f, " "),
			lab.Run("ipvsadm", append([]string{"-Ln"}, f...)...),
			lab.Run("luvs", append([]string{"list"}, f...)...))
	}
	// ipvsadm -Sn drops thresholds; luvs save keeps them as -x/-y. Compare
	// the rest.
	save := lab.Run("luvs", "save")
	sameLines(t, "luvs save", lab.Run("ipvsadm", "-Sn"), strings.ReplaceAll(save, " -x 100 -y 10", ""))

	// Both ipvsadm -R and luvs restore rebuild the same table from the saved rules.
	rules := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(rules, []byte(save), 0o644); err != nil {
		t.Fatal(err)
	}
	lab2 := testbed.NewLab(t)
	lab2.Run("luvs", "restore", rules)
	sameLines(t, "restored table", lab.Run("ipvsadm", "-Ln"), lab2.Run("ipvsadm", "-Ln"))
	if out := lab2.Run("luvs", "restore", "--dry-run", rules); !strings.Contains(out, "0 change(s) planned") {
		t.Errorf("restoring the same rules again should change nothing, got:\n%s", out)
	}
	if out := lab2.Run("luvs", "list", "--thresholds"); !strings.Contains(out, "100        10") {
		t.Errorf("thresholds lost in save/restore:\n%s", out)
	}
}

// normalize fills in what the kernel reports back (the default persistence
// netmask, empty real-server lists) and sorts the state as ipvs.ToState does.
func normalize(st *model.State) {
	t := ipvs.FromState(st)
	for i := range t {
		if t[i].Persistent && t[i].NetmaskBits == 0 {
			t[i].NetmaskBits = t[i].Netmask()
		}
	}
	*st = *ipvs.ToState(t)
}

func planAll(st *model.State) []model.Op {
	var ops []model.Op
	for i := range st.Services {
		v := &st.Services[i]
		ops = append(ops, model.Op{Kind: model.AddService, Service: &v.Service})
		for j := range v.Dests {
			ops = append(ops, model.Op{Kind: model.AddDest, Service: &v.Service, Dest: &v.Dests[j]})
		}
	}
	return ops
}

// TestBulkApplyReportsEachFailure sends one batch in which some ops must fail
// and checks that each failure is reported against its op, with the
// kernel's reason, while the others are applied.
func TestBulkApplyReportsEachFailure(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	c := lab.IPVS()
	svc := &model.Service{ServiceKey: tcp("198.18.0.10", 80), Scheduler: "rr"}
	missing := &model.Service{ServiceKey: tcp("198.18.0.99", 80), Scheduler: "rr"}
	ops := []model.Op{
		{Kind: model.AddService, Service: svc},
		{Kind: model.AddDest, Service: svc, Dest: destp("198.18.1.2", 80, 1, model.DirectRoute)},
		{Kind: model.AddDest, Service: svc, Dest: destp("198.18.1.2", 80, 1, model.DirectRoute)}, // duplicate
		{Kind: model.AddDest, Service: missing, Dest: destp("198.18.1.3", 80, 1, model.DirectRoute)},
		{Kind: model.AddService, Service: &model.Service{ServiceKey: tcp("198.18.0.11", 80), Scheduler: "nosuch"}},
		{Kind: model.AddDest, Service: svc, Dest: destp("198.18.1.4", 80, 2, model.DirectRoute)},
		{Kind: model.DelDest, Service: svc, Dest: destp("198.18.1.5", 80, 0, model.DirectRoute)}, // absent
	}
	res := c.Apply(ops)
	wantErr := []unix.Errno{0, 0, unix.EEXIST, unix.ESRCH, unix.ENOENT, 0, unix.ENOENT}
	for i, e := range res.Errors {
		switch {
		case wantErr[i] == 0 && e != nil:
			t.Errorf("op %d (%s): unexpected error %v", i, ops[i], e)
		case wantErr[i] != 0 && !errors.Is(e, wantErr[i]):
			t.Errorf("op %d (%s): error %v, want %s", i, ops[i], e, unix.ErrnoName(wantErr[i]))
		case e != nil:
			t.Logf("op %d: %v", i, e)
		}
	}
	if res.Applied() != 3 || res.Failed() != 4 || res.RoundTrips != 1 {
		t.Errorf("applied %d failed %d in %d round trips, want 3, 4, 1", res.Applied(), res.Failed(), res.RoundTrips)
	}
	if e := res.Errors[3]; e == nil || !strings.Contains(e.Error(), "add dest 198.18.1.3:80 to TCP 198.18.0.99:80: no such service") {
		t.Errorf("error should name the op and the reason, got %v", e)
	}
	out := lab.Run("ipvsadm", "-Ln")
	if !strings.Contains(out, "198.18.1.2:80") || !strings.Contains(out, "198.18.1.4:80") || strings.Contains(out, "198.18.0.11") {
		t.Errorf("kernel table after partial batch:\n%s", out)
	}
}

func TestTimeouts(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	c := lab.IPVS()
	if err := c.SetTimeouts(model.Timeouts{TCP: 901, TCPFin: 121, UDP: 301}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	if got != (model.Timeouts{TCP: 901, TCPFin: 121, UDP: 301}) {
		t.Errorf("timeouts = %+v", got)
	}
	sameLines(t, "luvs timeouts", lab.Run("ipvsadm", "-L", "--timeout"), lab.Run("luvs", "timeouts"))
	lab.Run("luvs", "timeouts", "--udp", "55")
	if out := lab.Run("ipvsadm", "-L", "--timeout"); !strings.Contains(out, "901 121 55") {
		t.Errorf("after luvs timeouts --udp 55: %s", out)
	}
}

func TestSyncDaemon(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	c := lab.IPVS()
	// c0 is the director's veth towards the client namespace.
	if err := c.StartDaemon(model.SyncDaemon{State: model.SyncMaster, Interface: "c0", SyncID: 7}); err != nil {
		t.Fatal(err)
	}
	lab.Run("luvs", "sync", "start", "backup", "--interface", "c0", "--syncid", "9")
	ds, err := c.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("daemons = %+v, want master and backup", ds)
	}
	sameLines(t, "luvs sync list", lab.Run("ipvsadm", "-L", "--daemon"), lab.Run("luvs", "sync", "list"))
	if err := c.StartDaemon(model.SyncDaemon{State: model.SyncMaster, Interface: "c0"}); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second master: %v, want EEXIST", err)
	}
	if err := c.StopDaemon(model.SyncMaster); err != nil {
		t.Fatal(err)
	}
	lab.Run("luvs", "sync", "stop", "backup")
	if out := lab.Run("ipvsadm", "-L", "--daemon"); strings.TrimSpace(out) != "" {
		t.Errorf("daemons still running:\n%s", out)
	}
	if err := c.StopDaemon(model.SyncBackup); !errors.Is(err, unix.ESRCH) {
		t.Errorf("stopping a stopped daemon: %v, want ESRCH", err)
	}
}

// TestZeroAndStats sends traffic, compares counters with ipvsadm, then zeroes them.
func TestZeroAndStats(t *testing.T) {
	needKernel(t)
	vip := addr("198.18.0.10")
	lab, key, _ := natLab(t, vip)
	if got := lab.Spread(url(vip), 9); got["error"] != 0 {
		t.Fatalf("requests failed: %v", got)
	}
	// The kernel folds its per-CPU counters into the totals every 2 seconds.
	var svc ipvs.Service
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var err error
		if svc, err = lab.IPVS().Service(key); err != nil {
			t.Fatal(err)
		}
		if svc.Stats.Conns == 9 {
			break
		}
	}
	if svc.Stats.Conns != 9 || svc.Stats.InPkts == 0 || svc.Stats.OutBytes == 0 {
		t.Errorf("service stats after 9 requests: %+v", svc.Stats)
	}
	// Let the last packets of the closed connections be counted too, so that
	// both tools read the same settled numbers.
	time.Sleep(2500 * time.Millisecond)
	for _, f := range [][]string{{"--stats", "--exact"}, {"--stats"}} {
		sameLines(t, "luvs list "+strings.Join(f, " "),
			lab.Run("ipvsadm", append([]string{"-Ln"}, f...)...),
			lab.Run("luvs", append([]string{"list"}, f...)...))
	}
	lab.Run("luvs", "zero", "198.18.0.10:80")
	if svc, _ = lab.IPVS().Service(key); svc.Stats.Conns != 0 {
		t.Errorf("conns after zero: %d", svc.Stats.Conns)
	}
}

// TestGlobalsFromTheConfiguration: timeouts { } and sync_daemon { } are set
// by luvs apply (a second apply changes nothing) and by luvs run, whose
// reload stops a sync daemon the new file no longer declares.
func TestGlobalsFromTheConfiguration(t *testing.T) {
	needKernel(t)
	lab := testbed.NewLab(t)
	services := `virtual_server "198.18.0.10:80" { real_server "198.18.11.2:80" {} }` + "\n"
	cfg := writeConfig(t, services+`timeouts { tcp = "17m", udp = 33 }
sync_daemon { state = "master", interface = "c0", id = 5 }
`)
	out := lab.Run("luvs", "apply", cfg)
	if !strings.Contains(out, "set timeouts tcp 1020s, udp 33s") || !strings.Contains(out, "start master sync daemon on c0 (syncid 5)") {
		t.Fatalf("luvs apply:\n%s", out)
	}
	if got := lab.Run("ipvsadm", "-L", "--timeout"); !strings.Contains(got, "(tcp tcpfin udp): 1020 120 33") {
		t.Errorf("ipvsadm -L --timeout: %s", got)
	}
	if got := lab.Run("ipvsadm", "-L", "--daemon"); !strings.Contains(got, "master sync daemon (mcast=c0, syncid=5,") {
		t.Errorf("ipvsadm -L --daemon: %s", got)
	}
	if again := lab.Run("luvs", "apply", cfg); strings.Contains(again, "timeouts") || strings.Contains(again, "sync daemon") {
		t.Errorf("second apply changed settings:\n%s", again)
	}
	lab.Run("luvs", "sync", "stop", "master")

	// The daemon: starts the backup one, and stops it when a reload drops it.
	cfg2 := writeConfig(t, services+`sync_daemon { state = "backup", interface = "c0", id = 6 }`+"\n")
	d := startDaemon(t, lab, cfg2)
	waitFor(t, "the backup sync daemon", 20*time.Second, func() bool {
		return strings.Contains(lab.Run("ipvsadm", "-L", "--daemon"), "backup sync daemon (mcast=c0, syncid=6,")
	})
	if err := os.WriteFile(cfg2, []byte(services), 0o644); err != nil {
		t.Fatal(err)
	}
	lab.Run("luvs", "reload", "--socket", d.socket)
	waitFor(t, "the backup sync daemon to stop", 20*time.Second, func() bool {
		return strings.TrimSpace(lab.Run("ipvsadm", "-L", "--daemon")) == ""
	})
	if logs := d.logs.String(); !strings.Contains(logs, "stop backup sync daemon (no longer configured)") {
		t.Errorf("the log does not say why the sync daemon stopped:\n%s", logs)
	}
}
