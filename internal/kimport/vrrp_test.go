package kimport

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/keepalived"
)

const vrrpConf = `global_defs {
  router_id lb1
  vrrp_version 3
  lvs_sync_daemon eth1 VI_1
}
# The pair's address.
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 0.5
  nopreempt
  notify_master "/usr/local/bin/became master"
  authentication {
    auth_type PASS
    auth_pass secret
  }
  unicast_peer {
    198.18.100.12
  }
  track_interface {
    eth1 weight -20
  }
  virtual_ipaddress {
    198.18.100.100/24 dev eth0
    198.18.100.101
  }
}
virtual_server 198.18.100.100 80 {
  lb_kind DR
  protocol TCP
  real_server 198.18.100.21 80 {
  }
}
`

// TestImportVRRP: with Options.VRRP a vrrp_instance becomes a vrrp
// declaration that loads (an lvs_sync_daemon following it becomes its
// sync_daemon), the settings luvs does not need are dropped with warnings,
// and the block is left out of keepalived's part.
func TestImportVRRP(t *testing.T) {
	cfg, err := keepalived.Parse("k.conf", []byte(vrrpConf), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ImportWith(cfg, Options{VRRP: true})
	if err != nil {
		t.Fatal(err)
	}
	c := load(t, res.Lua)
	if len(c.VRRP) != 1 {
		t.Fatalf("vrrp %+v\n%s", c.VRRP, res.Lua)
	}
	v := c.VRRP[0]
	if v.Name != "VI_1" || v.Interface != "eth0" || v.VRID != 51 || v.Priority != 150 || v.AdvertInterval != 500*time.Millisecond ||
		v.Preempt || fmt.Sprint(v.Addresses) != "[198.18.100.100/24 198.18.100.101/32]" || fmt.Sprint(v.Peers) != "[198.18.100.12]" ||
		fmt.Sprint(v.TrackInterfaces) != "[eth1]" || v.TrackWeight != -20 {
		t.Errorf("vrrp %+v\n%s", v, res.Lua)
	}
	if v.Sync == nil || v.Sync.Interface != "eth1" || v.Sync.SyncID != 51 || len(c.SyncDaemons) != 0 {
		t.Errorf("sync daemon: in vrrp %+v, global %+v\n%s", v.Sync, c.SyncDaemons, res.Lua)
	}
	if fmt.Sprint(v.NotifyMaster.Argv) != "[/usr/local/bin/became master]" {
		t.Errorf("notify_master %+v", v.NotifyMaster)
	}
	if !strings.Contains(res.Lua, "-- The pair's address.\nvrrp \"VI_1\" {") {
		t.Errorf("the comment is not kept:\n%s", res.Lua)
	}
	var warns []string
	for _, w := range res.Warnings {
		warns = append(warns, w.Error())
	}
	for _, want := range []string{"k.conf:8: warning: vrrp_instance VI_1: state dropped", "k.conf:15: warning: vrrp_instance VI_1: authentication dropped: VRRPv3 has no authentication"} {
		if !strings.Contains(strings.Join(warns, "\n"), want) {
			t.Errorf("warnings lack %q:\n%s", want, strings.Join(warns, "\n"))
		}
	}
	if part := KeepalivedPart(cfg, res.Translated...); strings.Contains(part, "vrrp_instance") {
		t.Errorf("keepalived's part still has the translated instance:\n%s", part)
	}
	// Without the option the instance stays with keepalived.
	res, err = Import(cfg)
	if err != nil || strings.Contains(res.Lua, "vrrp \"VI_1\"") || !strings.Contains(KeepalivedPart(cfg, res.Translated...), "vrrp_instance VI_1") {
		t.Errorf("without VRRP: %v\n%s", err, res.Lua)
	}

	// What luvs cannot do is an error, every one at its line; VRRPv2 is a
	// warning to set vrrp_version 3 on the keepalived side.
	bad := strings.NewReplacer("  vrrp_version 3\n", "", "  nopreempt\n", "  nopreempt\n  notify /bin/true\n  use_vmac\n",
		"    198.18.100.101\n", "    198.18.100.101 label eth0:1\n").Replace(vrrpConf) + "vrrp_script chk {\n  script /bin/true\n}\n"
	cfg, err = keepalived.Parse("k.conf", []byte(bad), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ImportWith(cfg, Options{VRRP: true})
	for _, want := range []string{"notify is not supported by luvs yet", "use_vmac is not supported by luvs yet",
		"198.18.100.101 label eth0:1: options other than the interface", "vrrp_script is not supported by luvs yet"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	cfg, _ = keepalived.Parse("k.conf", []byte(strings.Replace(vrrpConf, "  vrrp_version 3\n", "", 1)), keepalived.Options{})
	res, err = ImportWith(cfg, Options{VRRP: true})
	if err != nil || !strings.Contains(fmt.Sprint(res.Warnings), "keepalived speaks VRRPv2 here, luvs VRRPv3 only") {
		t.Errorf("VRRPv2: %v %v", err, res.Warnings)
	}
}
