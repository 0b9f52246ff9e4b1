package luaconf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// TestGlobals: timeouts, sync daemons and the script user reach the model;
// the script user fills in exec checks without a user of their own.
func TestGlobals(t *testing.T) {
	cfg, err := load(t, `
timeouts { tcp = "15m", udp = 30 }
sync_daemon { state = "backup", interface = "eth1", id = 3, port = 9000 }
scripts { user = "nobody" }
local probe = exec { argv = { "/bin/true" } }
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = probe },
  real_server "198.18.1.2:80" { check = exec { argv = { "/bin/true" }, user = "root" } },
}`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeouts == nil || *cfg.Timeouts != (model.Timeouts{TCP: 900, UDP: 30}) {
		t.Errorf("timeouts %+v", cfg.Timeouts)
	}
	if len(cfg.SyncDaemons) != 1 || cfg.SyncDaemons[0].String() != "backup sync daemon on eth1 (syncid 3, port 9000)" {
		t.Errorf("sync daemons %v", cfg.SyncDaemons)
	}
	if cfg.Scripts == nil || cfg.Scripts.User != "nobody" {
		t.Fatalf("scripts %+v", cfg.Scripts)
	}
	servers := cfg.Services[0].Servers
	if u := servers[0].Checks[0].Exec.User; u != "nobody" {
		t.Errorf("exec check without a user runs as %q, want the script user", u)
	}
	if u := servers[1].Checks[0].Exec.User; u != "root" {
		t.Errorf("exec check with user root runs as %q", u)
	}
	_, err = load(t, `scripts { user = "no-such-user-here" }`)
	if err == nil || !strings.Contains(err.Error(), `scripts: no user "no-such-user-here" on this system`) {
		t.Errorf("unknown script user: %v", err)
	}
}

// TestBGPAndECMP: bgp, announce, ecmp and sysctl reach the model; ecmp sets
// the mh scheduler with its flags and implies net.ipv4.vs.sloppy_tcp; a
// service that announces needs a bgp declaration.
func TestBGPAndECMP(t *testing.T) {
	cfg, err := load(t, `
bgp {
  asn = 65001, router_id = "198.18.10.1", shutdown_delay = "5s",
  peers = {
    { address = "198.18.10.254", asn = 65000, hold_time = "9s", bfd = true },
    { address = "2001:db8:10::fe", asn = 65000, password = "s3cret", multihop = 2 },
  },
}
sysctl { ["net.ipv4.vs.expire_nodest_conn"] = true, ["net.ipv4.vs.conn_reuse_mode"] = 0 }
defaults { forward = "dr" }
virtual_server "198.18.0.10:80" { ecmp = true, announce = true, real_server "198.18.1.9:80" {}, real_server "198.18.1.1:80" {} }
virtual_server "udp:198.18.0.10:53" { announce = { communities = { "65000:53" }, med = 20, local_pref = 300 }, real_server "198.18.1.1:53" {} }
virtual_server "fwmark:7" { announce = { prefixes = { "198.18.4.0/24" } }, real_server "198.18.1.1" {} }
virtual_server "198.18.0.11:80" { real_server "198.18.1.1:80" {} }
`)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.BGP
	if b == nil || b.ASN != 65001 || b.RouterID.String() != "198.18.10.1" || b.ShutdownDelay != 5*time.Second || len(b.Peers) != 2 {
		t.Fatalf("bgp %+v", b)
	}
	if p := b.Peers[0]; p.HoldTime != 9*time.Second || p.BFD == nil || p.BFD.Multiplier != 3 || p.BFD.MinTx != 300*time.Millisecond {
		t.Errorf("peer 1 %+v", p)
	}
	if p := b.Peers[1]; !p.Address.Is6() || p.Password != "s3cret" || p.MultihopTTL != 2 || p.BFD != nil {
		t.Errorf("peer 2 %+v", p)
	}
	web := cfg.Services[0]
	if !web.ECMP || web.Scheduler != "mh" || web.SchedFlags != model.SchedFlag1|model.SchedFlag2 {
		t.Errorf("ecmp service: ecmp %v, scheduler %s, flags %#x", web.ECMP, web.Scheduler, web.SchedFlags)
	}
	if web.Servers[0].Addr.String() != "198.18.1.1" {
		t.Errorf("an ecmp service's servers are not sorted: first %s", web.Servers[0].DestKey)
	}
	if got := fmt.Sprint(web.AnnouncedPrefixes()); got != "[198.18.0.10/32]" {
		t.Errorf("announced %s", got)
	}
	if a := cfg.Services[1].Announce; a == nil || a.Communities[0] != "65000:53" || *a.MED != 20 || *a.LocalPref != 300 {
		t.Errorf("announce %+v", a)
	}
	if got := fmt.Sprint(cfg.Services[2].AnnouncedPrefixes()); got != "[198.18.4.0/24]" {
		t.Errorf("fwmark announces %s", got)
	}
	if cfg.Services[3].Announce != nil || cfg.Services[3].AnnouncedPrefixes() != nil {
		t.Errorf("a service without announce announces %v", cfg.Services[3].AnnouncedPrefixes())
	}
	var sys []string
	for _, s := range cfg.Sysctls {
		sys = append(sys, s.Key+"="+s.Value)
	}
	if got := strings.Join(sys, " "); got != "net.ipv4.vs.conn_reuse_mode=0 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.sloppy_tcp=1" {
		t.Errorf("sysctls %s", got)
	}
	if w := cfg.Sysctls[2].Where; !strings.HasPrefix(w, "ecmp = true at ") {
		t.Errorf("the implied sloppy_tcp says %q", w)
	}

	path := filepath.Join(t.TempDir(), "w.lua")
	os.WriteFile(path, []byte(`bgp { asn = 1, router_id = "198.18.10.1", peers = { { address = "198.18.10.254", asn = 2 } } }
virtual_server "198.18.0.10:80" { announce = { med = 1 }, real_server "198.18.1.1:80" {} }
virtual_server "198.18.0.10:443" { announce = { med = 2 }, real_server "198.18.1.1:443" {} }`), 0o644)
	res, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Msg, "announces 198.18.0.10/32 with other attributes than TCP 198.18.0.10:80 does") {
		t.Errorf("warnings %v", res.Warnings)
	}
	res.Close()
	_, err = load(t, `virtual_server "198.18.0.10:80" { announce = true, real_server "198.18.1.1:80" {} }`)
	if err == nil || !strings.Contains(err.Error(), "announce needs a bgp {") {
		t.Errorf("announce without bgp: %v", err)
	}
	_, err = load(t, `bgp { asn = 1, router_id = "198.18.10.1", peers = { { address = "198.18.10.254", asn = 2 } } }
bgp { asn = 1, router_id = "198.18.10.1", peers = { { address = "198.18.10.254", asn = 2 } } }`)
	if err == nil || !strings.Contains(err.Error(), "bgp already declared at") {
		t.Errorf("two bgp declarations: %v", err)
	}
}

// TestVRRP: vrrp declarations reach the model with their defaults (priority
// 100, 1 s, preempt), prefixes, peers, tracking and a sync daemon that
// follows the role; a virtual router id is unique per interface and family.
func TestVRRP(t *testing.T) {
	cfg, err := load(t, `
virtual_server "198.18.0.10:80" { real_server "198.18.1.1:80" {} }
vrrp "VI_1" {
  interface = "eth0", virtual_router_id = 51, priority = 150, advert_interval = "500ms",
  virtual_addresses = { "198.18.0.10/24", "198.18.0.11" }, preempt_delay = "5s",
  unicast_peers = { "198.18.100.12" },
  track = { services = { "198.18.0.10:80" }, interfaces = { "eth1" }, weight = -60 },
  sync_daemon = { interface = "eth1", id = 51 },
}
vrrp "VI_6" { interface = "eth0", virtual_router_id = 51, virtual_addresses = { "2001:db8::10" }, preempt = false,
  notify_master = { "/usr/local/bin/page", "master" }, notify_fault = function(ev) log.warn(ev.name) end }
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.VRRP) != 2 {
		t.Fatalf("vrrp %+v", cfg.VRRP)
	}
	v := cfg.VRRP[0]
	if v.Name != "VI_1" || v.Interface != "eth0" || v.VRID != 51 || v.Priority != 150 || v.AdvertInterval != 500*time.Millisecond ||
		fmt.Sprint(v.Addresses) != "[198.18.0.10/24 198.18.0.11/32]" || !v.Preempt || v.PreemptDelay != 5*time.Second ||
		fmt.Sprint(v.Peers) != "[198.18.100.12]" || len(v.TrackServices) != 1 || fmt.Sprint(v.TrackInterfaces) != "[eth1]" || v.TrackWeight != -60 {
		t.Errorf("VI_1 %+v", v)
	}
	if v.Sync == nil || v.Sync.Interface != "eth1" || v.Sync.SyncID != 51 || v.PreemptDelay != 5*time.Second {
		t.Errorf("VI_1 sync %+v", v.Sync)
	}
	w := cfg.VRRP[1]
	if w.Priority != 100 || w.AdvertInterval != time.Second || w.Preempt || w.Family() != model.IPv6 || w.Sync != nil ||
		len(w.NotifyMaster.Argv) != 2 || w.NotifyFault.Func == "" || !w.NotifyBackup.IsZero() {
		t.Errorf("VI_6 %+v", w)
	}
	cfg, err = load(t, `vrrp "S" { interface = "eth0", virtual_router_id = 7, virtual_addresses = { "198.18.0.10" }, sync_daemon = { interface = "eth1" } }`)
	if err != nil || cfg.VRRP[0].PreemptDelay != DefaultSyncPreemptDelay {
		t.Errorf("a vrrp with a sync daemon: preempt_delay %v (%v), want the default %s", cfg.VRRP[0].PreemptDelay, err, DefaultSyncPreemptDelay)
	}
	_, err = load(t, `sync_daemon { state = "master", interface = "eth1" }
vrrp "S" { interface = "eth0", virtual_router_id = 7, virtual_addresses = { "198.18.0.10" }, sync_daemon = { interface = "eth1" } }`)
	if err == nil || !strings.Contains(err.Error(), "keep the one that follows the role") {
		t.Errorf("two sync daemon declarations: %v", err)
	}
	_, err = load(t, `vrrp "A" { interface = "eth0", virtual_router_id = 7, virtual_addresses = { "198.18.0.10" } }
vrrp "B" { interface = "eth0", virtual_router_id = 7, virtual_addresses = { "198.18.0.11" } }`)
	if err == nil || !strings.Contains(err.Error(), `virtual_router_id 7 on eth0 is already vrrp "A"'s`) {
		t.Errorf("a duplicate vrid: %v", err)
	}
}
