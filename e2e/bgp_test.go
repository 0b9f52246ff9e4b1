package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/testbed"
)

// bgpDirectorConfig is each director's configuration in TestECMPWithBGP:
// its own router id, the lab's router as its peer (BFD at 100 ms x 3, as
// the router runs it), the web and echo services with ecmp and announce.
const bgpDirectorConfig = `
bgp {
  asn = 65001, router_id = %q, shutdown_delay = "2s",
  peers = { { address = %q, asn = 65000, hold_time = "3s", connect_retry = "1s",
              bfd = { min_tx = "100ms", min_rx = "100ms", multiplier = 3 } } },
}
defaults {
  forward = "dr", ecmp = true, announce = true,
  check = tcp { interval = "300ms", timeout = "200ms", rise = 1, fall = 2 },
}
virtual_server "198.18.0.10:80" {
  real_server "198.18.100.21:80" {}, real_server "198.18.100.22:80" {}, real_server "198.18.100.23:80" {},
}
virtual_server "198.18.0.10:7000" {
  real_server "198.18.100.23:7000" {}, real_server "198.18.100.21:7000" {}, real_server "198.18.100.22:7000" {},
}
`

// TestECMPWithBGP: two directors running luvs announce the virtual address
// to a BIRD router over BGP; the router spreads flows over both (ECMP).
// A director that loses its real servers withdraws, and every new
// connection succeeds through the other; `kill -9` of a director's daemon
// withdraws its route at once (its BGP session closes with it) and its
// long-lived connections go on through the other director (same real
// server by mh, picked up thanks to sloppy_tcp, which luvs set); a clean
// stop withdraws first and loses no request.
func TestECMPWithBGP(t *testing.T) {
	needKernel(t)
	if _, err := exec.LookPath("bird"); err != nil {
		if os.Getenv("LUVS_BIRD_REQUIRED") == "1" {
			t.Fatal("LUVS_BIRD_REQUIRED=1 but bird is not in PATH")
		}
		t.Skip("bird not in PATH (start the VM with LUVS_VM_EXTRA_BINARIES=\"bird birdc\")")
	}
	lab := testbed.NewECMPLab(t, 2, 3)
	d1, d2 := lab.Directors[0], lab.Directors[1]
	parent := t // daemons restarted in a subtest live on after it
	web := netip.AddrPortFrom(testbed.ECMPVIP, 80)
	echo := netip.AddrPortFrom(testbed.ECMPVIP, 7000)
	lab.StartEcho(echo.Port())
	for _, d := range lab.Directors {
		// luvs sets sloppy_tcp itself (ecmp = true): undo the lab's.
		if err := testbed.Sysctl(d.NS, "net/ipv4/vs/sloppy_tcp", "0"); err != nil {
			t.Fatal(err)
		}
	}
	bird := lab.StartBird(lab.BirdConfig().String())
	configs := map[*testbed.Director]string{}
	for _, d := range lab.Directors {
		configs[d] = writeConfig(t, fmt.Sprintf(bgpDirectorConfig, d.Addr4, testbed.RouterLANAddr))
	}
	start := time.Now()
	daemons := map[*testbed.Director]*daemon{d1: startDaemonIn(t, d1.NS, configs[d1]), d2: startDaemonIn(t, d2.NS, configs[d2])}

	// via reports whether the router's route to the VIP goes through
	// exactly the directors ds.
	via := func(ds ...*testbed.Director) func() bool {
		return func() bool {
			r := lab.VIPRoute()
			n := 0
			for _, d := range lab.Directors {
				if strings.Contains(r, "via "+d.Addr4.String()+" ") {
					n++
				}
			}
			for _, d := range ds {
				if !strings.Contains(r, "via "+d.Addr4.String()+" ") {
					return false
				}
			}
			return n == len(ds)
		}
	}
	waitFor(t, "both directors' announcements at the router", 30*time.Second, via(d1, d2))
	t.Logf("both announced %s after the daemons started; router: %s", time.Since(start).Round(time.Millisecond), lab.VIPRoute())
	routes, _ := bird.Command("show", "route", "all", testbed.ECMPVIP.String()+"/32")
	if strings.Count(routes, "BGP.as_path: 65001") != 2 {
		t.Errorf("BIRD does not have the VIP from both directors:\n%s", routes)
	}
	for _, d := range lab.Directors {
		if v := strings.TrimSpace(d.Run("cat", "/proc/sys/net/ipv4/vs/sloppy_tcp")); v != "1" {
			t.Errorf("%s: sloppy_tcp is %s, want 1 (set by luvs for ecmp = true)", d.Name, v)
		}
		if !strings.Contains(daemons[d].logs.String(), `msg="announcing virtual address" prefix=198.18.0.10/32`) {
			t.Errorf("%s: the announcement is not logged", d.Name)
		}
	}
	st := daemons[d1].status(t)
	if st.BGP == nil || len(st.BGP.Peers) != 1 || st.BGP.Peers[0].State != "established" || len(st.BGP.Announcements) != 1 || !st.BGP.Announcements[0].Announced {
		t.Errorf("luvs status of director1: %+v", st.BGP)
	}

	t.Run("spread", func(t *testing.T) {
		tally := lab.Send(web, 40)
		t.Logf("40 requests: answers %v, connections per director %v", tally.ByServer, tally.ByDirector)
		if tally.Errors > 0 || tally.ByDirector[d1.Name] == 0 || tally.ByDirector[d2.Name] == 0 {
			t.Errorf("%d failed; connections per director %v, want both", tally.Errors, tally.ByDirector)
		}
	})

	t.Run("servers down withdraws", func(t *testing.T) {
		// director1 loses its real servers: unreachable from it.
		var cut []string
		for _, rs := range lab.Servers {
			cut = append(cut, "route add prohibit "+rs.Addr4.String()+"/32")
		}
		for _, c := range cut {
			lab.Run(d1.NS, "ip", strings.Fields(c)...)
		}
		took := waitFor(t, "director1's withdrawal", 10*time.Second, via(d2))
		t.Logf("director1's real servers unreachable: withdrawn at the router %s later (fall 2 x 300 ms + timeout)", took.Round(time.Millisecond))
		if !strings.Contains(daemons[d1].logs.String(), `msg="withdrawing virtual address" prefix=198.18.0.10/32`) {
			t.Error("the withdrawal is not logged")
		}
		tally := lab.Send(web, 20)
		if tally.Errors > 0 || tally.ByDirector[d2.Name] != 20 {
			t.Errorf("20 new requests with director1 withdrawn: %d failed, per director %v", tally.Errors, tally.ByDirector)
		}
		for _, rs := range lab.Servers {
			lab.Run(d1.NS, "ip", "route", "del", "prohibit", rs.Addr4.String()+"/32")
		}
		took = waitFor(t, "director1 announced again", 10*time.Second, via(d1, d2))
		t.Logf("director1's servers back: announced again %s later", took.Round(time.Millisecond))
	})

	t.Run("kill -9", func(t *testing.T) {
		// Long-lived connections, some through each director.
		type conn struct {
			c  *testbed.Conn
			rs string
		}
		var onD2 []conn
		for i := 0; i < 12 && len(onD2) < 3; i++ {
			c, err := lab.Dial(echo)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			ans, err := c.Say("hello")
			if err != nil {
				t.Fatal(err)
			}
			rs, _, _ := strings.Cut(ans, ": ")
			if _, ok := d2.Flow(c.LocalAddr()); ok {
				onD2 = append(onD2, conn{c, rs})
			}
		}
		if len(onD2) == 0 {
			t.Fatal("no connection of 12 went through director2")
		}
		// New connections meanwhile, counted.
		stopLoop := requestLoop(lab, "http://"+web.String()+"/", 2*time.Second)
		killed := time.Now()
		daemons[d2].cmd.Process.Signal(syscall.SIGKILL)
		took := waitFor(t, "director2's route withdrawn after kill -9", 10*time.Second, via(d1))
		t.Logf("kill -9 of director2's daemon: its route withdrawn at the router %s later", took.Round(time.Millisecond))
		if took > 1500*time.Millisecond {
			t.Errorf("withdrawn %s after kill -9, want within 1.5 s", took)
		}
		time.Sleep(time.Second)
		sent, failed, _ := stopLoop()
		t.Logf("new connections across the kill: %d sent, %d failed (%s)", sent, failed, time.Since(killed).Round(time.Millisecond))
		if failed > 0 {
			t.Errorf("%d of %d new connections failed across the kill", failed, sent)
		}
		for _, c := range onD2 {
			ans, err := c.c.Say("after the kill")
			if err != nil || ans != c.rs+": after the kill" {
				t.Errorf("a connection through director2 (%s) after its daemon died: %q, %v", c.rs, ans, err)
				continue
			}
			if _, ok := d1.Flow(c.c.LocalAddr()); !ok {
				t.Errorf("director1 has no entry for %s: the connection did not move", c.c.LocalAddr())
			}
		}
		t.Logf("%d long-lived connections through director2 went on through director1, each with its real server", len(onD2))
		<-daemons[d2].done
		daemons[d2] = startDaemonIn(parent, d2.NS, configs[d2])
		took = waitFor(t, "director2 announced again after its restart", 30*time.Second, via(d1, d2))
		t.Logf("director2's daemon restarted: announced %s later", took.Round(time.Millisecond))
	})

	t.Run("director dies (BFD)", func(t *testing.T) {
		// director2 drops off the network as a dead machine does: no FIN
		// closes its session; the router's BFD notices.
		stopLoop := requestLoop(lab, "http://"+web.String()+"/", time.Second)
		lab.Run(d2.NS, "ip", "link", "set", "eth0", "down")
		took := waitFor(t, "director2's route withdrawn by BFD", 10*time.Second, via(d1))
		time.Sleep(time.Second)
		sent, failed, lastFail := stopLoop()
		t.Logf("director2 off the network: its route withdrawn at the router %s later (BFD 100 ms x 5 at the router); new connections: %d sent, %d failed, the last %s after",
			took.Round(time.Millisecond), sent, failed, lastFail.Round(time.Millisecond))
		if took > 1500*time.Millisecond {
			t.Errorf("withdrawn %s after director2 went dark, want within 1.5 s (BFD)", took)
		}
		if failed > 0 && lastFail > took+time.Second {
			t.Errorf("new connections failed until %s, past the withdrawal at %s", lastFail, took)
		}
		lab.Run(d2.NS, "ip", "link", "set", "eth0", "up")
		took = waitFor(t, "director2 announced again once back on the network", 20*time.Second, via(d1, d2))
		t.Logf("director2 back on the network: announced again %s later", took.Round(time.Millisecond))
	})

	t.Run("clean stop", func(t *testing.T) {
		stopLoop := requestLoop(lab, "http://"+web.String()+"/", 2*time.Second)
		time.Sleep(500 * time.Millisecond)
		stopAt := time.Now()
		daemons[d2].cmd.Process.Signal(syscall.SIGTERM)
		withdrawn := waitFor(t, "director2's route withdrawn by its clean stop", 10*time.Second, via(d1))
		select {
		case <-daemons[d2].done:
			t.Errorf("director2's daemon exited before the router dropped its route")
		default:
		}
		<-daemons[d2].done
		exited := time.Since(stopAt)
		time.Sleep(500 * time.Millisecond)
		sent, failed, _ := stopLoop()
		t.Logf("clean stop of director2: withdrawn %s after SIGTERM, exited %s after it (shutdown_delay 2s); %d requests, %d failed",
			withdrawn.Round(time.Millisecond), exited.Round(time.Millisecond), sent, failed)
		if failed > 0 {
			t.Errorf("%d of %d requests failed across a clean stop", failed, sent)
		}
		if !strings.Contains(daemons[d2].logs.String(), "withdrew the announcements") {
			t.Error("the clean stop's withdrawal is not logged")
		}
	})
}

// requestLoop sends new HTTP requests (one connection each) to url from
// the lab's client every 20 ms until stopped; stop returns how many were
// sent and failed, and how long after the start the last failure came.
func requestLoop(lab *testbed.ECMPLab, url string, timeout time.Duration) (stop func() (sent, failed int64, lastFail time.Duration)) {
	var nSent, nFailed, last atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() {
		defer wg.Done()
		c := lab.HTTPClient(timeout)
		for {
			select {
			case <-done:
				return
			default:
			}
			nSent.Add(1)
			if _, err := testbed.Get(c, url); err != nil {
				nFailed.Add(1)
				last.Store(int64(time.Since(start)))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() (int64, int64, time.Duration) {
		close(done)
		wg.Wait()
		return nSent.Load(), nFailed.Load(), time.Duration(last.Load())
	}
}
