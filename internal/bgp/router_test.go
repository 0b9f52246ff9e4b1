package bgp

// The routers of the session tests are Speakers too, each in a process of
// its own (this test binary, run again in the test namespace): GoBGP keeps
// its route selection options in package variables that every StartBgp
// writes, so two GoBGPs in one process race (harmlessly, as they write the
// same values, but the race detector rightly complains).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// envRouter holds the JSON routerConfig of a router process.
const envRouter = "LUVS_BGP_ROUTER"

// routerConfig configures a router process.
type routerConfig struct {
	ASN      uint32
	RouterID netip.Addr
	Port     int32
	Peers    []Peer
}

// routerState is what a router process reports.
type routerState struct {
	Routes map[netip.Addr]map[netip.Prefix]route // by peer
	Peers  []PeerState
	Err    string
}

// route is a path as a router received it.
type route struct {
	NextHop     netip.Addr
	Communities []uint32
	MED         int64 // -1: none
	LocalPref   int64 // -1: none
	ASPath      []uint32
}

func (r route) String() string {
	return fmt.Sprintf("nh %s comms %v med %d lp %d as-path %v", r.NextHop, r.Communities, r.MED, r.LocalPref, r.ASPath)
}

// routerMain is a router process: it runs a speaker for the routerConfig
// in $LUVS_BGP_ROUTER, writes "ready" once it started, then answers the
// commands on its standard input, a line each: "state" (a routerState) or
// "update" and a routerConfig (a routerState with only Err); at the end of
// its input, it stops. It returns the exit status.
func routerMain() int {
	var cfg routerConfig
	if err := json.Unmarshal([]byte(os.Getenv(envRouter)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "router:", err)
		return 1
	}
	s, err := New(Config{ASN: cfg.ASN, RouterID: cfg.RouterID, ListenPort: cfg.Port, Peers: cfg.Peers}, nil)
	if err == nil {
		err = s.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "router:", err)
		return 1
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var st routerState
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "state":
			st.Peers = s.Peers()
			st.Routes = map[netip.Addr]map[netip.Prefix]route{}
			for _, p := range st.Peers {
				if st.Routes[p.Address], err = s.received(p.Address); err != nil {
					st.Err = err.Error()
				}
			}
		case "update":
			var c routerConfig
			if err := json.Unmarshal([]byte(arg), &c); err != nil {
				st.Err = err.Error()
			} else if err := s.Update(Config{ASN: c.ASN, RouterID: c.RouterID, ListenPort: c.Port, Peers: c.Peers}); err != nil {
				st.Err = err.Error()
			}
		default:
			st.Err = "unknown command " + cmd
		}
		if err := out.Encode(st); err != nil {
			fmt.Fprintln(os.Stderr, "router:", err)
			return 1
		}
	}
	if err := s.Stop(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "router: stop:", err)
		return 1
	}
	return 0
}

// received returns what s received from peer, read from GoBGP's
// Adj-RIB-In (which keeps the routes its import policy rejects).
func (s *Speaker) received(peer netip.Addr) (map[netip.Prefix]route, error) {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil, errStopped
	}
	got := map[netip.Prefix]route{}
	for _, f := range []bgp.Family{bgp.RF_IPv4_UC, bgp.RF_IPv6_UC} {
		var bad error
		err := srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_ADJ_IN, Name: peer.String(), Family: f},
			func(nlri bgp.NLRI, paths []*apiutil.Path) {
				p, err := netip.ParsePrefix(nlri.String())
				if err != nil || len(paths) != 1 {
					bad = fmt.Errorf("%s: %d paths (%v)", nlri, len(paths), err)
					return
				}
				r := route{MED: -1, LocalPref: -1}
				for _, a := range paths[0].Attrs {
					switch a := a.(type) {
					case *bgp.PathAttributeNextHop:
						r.NextHop = a.Value
					case *bgp.PathAttributeMpReachNLRI:
						r.NextHop = a.Nexthop
					case *bgp.PathAttributeCommunities:
						r.Communities = a.Value
					case *bgp.PathAttributeMultiExitDisc:
						r.MED = int64(a.Value)
					case *bgp.PathAttributeLocalPref:
						r.LocalPref = int64(a.Value)
					case *bgp.PathAttributeAsPath:
						for _, seg := range a.Value {
							r.ASPath = append(r.ASPath, seg.GetAS()...)
						}
					}
				}
				got[p] = r
			})
		if err == nil {
			err = bad
		}
		if err != nil {
			return nil, err
		}
	}
	return got, nil
}

// router is a router process, as the tests see it.
type router struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr logBuffer

	mu sync.Mutex // one command at a time
}

// startRouter starts a router process of ASN routerASN listening on port,
// accepting sessions from peers; it is stopped at the end of the test.
func startRouter(t *testing.T, port int32, routerID string, peers ...Peer) *router {
	t.Helper()
	for i := range peers {
		if peers[i].ConnectRetry == 0 {
			peers[i].ConnectRetry = 2 * time.Second
		}
	}
	cfg, err := json.Marshal(routerConfig{ASN: routerASN, RouterID: netip.MustParseAddr(routerID), Port: port, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := &router{t: t, cmd: exec.Command(self)}
	r.cmd.Env = append(os.Environ(), envRouter+"="+string(cfg))
	r.cmd.Stderr = &r.stderr
	if r.in, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.out = bufio.NewScanner(stdout)
	r.out.Buffer(nil, 1<<20)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	if !r.out.Scan() || r.out.Text() != "ready" {
		t.Fatalf("router %s did not start: %q %v\n%s", routerID, r.out.Text(), r.out.Err(), r.stderr.String())
	}
	return r
}

// stop ends the router process, which must exit cleanly.
func (r *router) stop() {
	r.in.Close()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			r.t.Errorf("router process: %v\n%s", err, r.stderr.String())
		}
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-done
		r.t.Errorf("router process did not stop; killed\n%s", r.stderr.String())
	}
}

// do sends a command and returns the answer.
func (r *router) do(cmd string) (routerState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var st routerState
	if _, err := io.WriteString(r.in, cmd+"\n"); err != nil {
		return st, err
	}
	if !r.out.Scan() {
		return st, fmt.Errorf("router gone: %v\n%s", r.out.Err(), r.stderr.String())
	}
	if err := json.Unmarshal(r.out.Bytes(), &st); err != nil {
		return st, err
	}
	if st.Err != "" {
		return st, fmt.Errorf("router: %s", st.Err)
	}
	return st, nil
}

// received returns what the router received from peer.
func (r *router) received(peer netip.Addr) (map[netip.Prefix]route, error) {
	st, err := r.do("state")
	return st.Routes[peer], err
}

// peer returns the router's state of its peer at addr.
func (r *router) peer(addr netip.Addr) PeerState {
	st, err := r.do("state")
	if err != nil {
		r.t.Fatal(err)
	}
	for _, p := range st.Peers {
		if p.Address == addr {
			return p
		}
	}
	return PeerState{State: "not configured"}
}
