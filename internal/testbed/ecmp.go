package testbed

import (
	"fmt"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// Addresses of the ECMP lab (NewECMPLab).
var (
	// ECMPVIP is the virtual address every director has on its lo and
	// every real server on its lo (direct routing).
	ECMPVIP = netip.MustParseAddr("198.18.0.10")
	// RouterLANAddr is the router's address on the lan, the real servers'
	// default gateway and the directors' BGP neighbour.
	RouterLANAddr = netip.MustParseAddr("198.18.100.1")
	// RouterClientAddr is the router's end of the client link.
	RouterClientAddr = netip.MustParseAddr("198.18.200.1")
)

// ECMPLab is a network of several IPVS directors behind a router that
// spreads flows over them with equal-cost multipath routing:
//
//	client ns ──veth── router ns ──veth──┐
//	                                     lan ns (bridge br0) ──veth── director ns 1..N
//	                                                         └─veth── real server ns 1..M
//
// The client has ClientAddr4 (198.18.200.2), default route via the router
// at RouterClientAddr. On the lan (198.18.100.0/24) the router has
// RouterLANAddr (.1) on lan0, director i has .(10+i) and real server j
// .(20+j), each on eth0 with a default route via the router. The router
// forwards and hashes multipath routes on L4
// (net.ipv4.fib_multipath_hash_policy=1); it has no route to ECMPVIP until
// RouteVIP (or BIRD) gives it one.
//
// Directors have ECMPVIP on lo (IPVS sees a packet in LOCAL_IN only when
// its destination is local), net.ipv4.vs.sloppy_tcp=1 (a director
// schedules a connection it sees mid-stream, when the router moves a flow
// to it), and arp_ignore=1/arp_announce=2. Their IPVS tables are empty:
// the test fills them (IPVS is per namespace).
//
// Real servers have ECMPVIP on lo with arp_ignore=1 and arp_announce=2, as
// direct routing needs, serve HTTP on port 80 of their lan address and of
// ECMPVIP (answering with their name, "rs1".."rsM") and reply to clients
// straight through the router.
type ECMPLab struct {
	t         testing.TB
	Prefix    string // namespace name prefix, unique per lab
	Client    string // client namespace name
	Router    string // router namespace name
	LAN       string // namespace holding the lan bridge
	Directors []*Director
	Servers   []*Backend
}

// Director is one IPVS director of an ECMPLab.
type Director struct {
	Name  string     // "director1".."directorN"
	NS    string     // its namespace
	Addr4 netip.Addr // on the lan: 198.18.100.(10+i)
	t     testing.TB
	ipvs  *ipvs.Client
}

// NewECMPLab creates an ECMP lab with 1..9 directors and 1..9 real
// servers. Everything is removed when the test ends.
func NewECMPLab(t testing.TB, directors, servers int) *ECMPLab {
	t.Helper()
	if directors < 1 || directors > 9 || servers < 1 || servers > 9 {
		t.Fatalf("NewECMPLab: %d directors and %d servers, want 1..9 of each", directors, servers)
	}
	l := &ECMPLab{t: t, Prefix: fmt.Sprintf("ecmp%d", labSeq.Add(1))}
	l.Client, l.Router, l.LAN = l.Prefix+"-cli", l.Prefix+"-rtr", l.Prefix+"-lan"
	for i := 1; i <= directors; i++ {
		l.Directors = append(l.Directors, &Director{
			Name:  fmt.Sprintf("director%d", i),
			NS:    fmt.Sprintf("%s-d%d", l.Prefix, i),
			Addr4: netip.AddrFrom4([4]byte{198, 18, 100, byte(10 + i)}),
			t:     t,
		})
	}
	for j := 1; j <= servers; j++ {
		l.Servers = append(l.Servers, &Backend{
			Name:  fmt.Sprintf("rs%d", j),
			NS:    fmt.Sprintf("%s-rs%d", l.Prefix, j),
			Addr4: netip.AddrFrom4([4]byte{198, 18, 100, byte(20 + j)}),
			VIPs:  []netip.Addr{ECMPVIP},
		})
	}

	// One `ip -batch` per namespace: every exec is slow under TCG.
	all := []string{l.Client, l.Router, l.LAN}
	for _, d := range l.Directors {
		all = append(all, d.NS)
	}
	for _, b := range l.Servers {
		all = append(all, b.NS)
	}
	var add, del []string
	for _, ns := range all {
		add = append(add, "netns add "+ns)
		del = append(del, "netns del "+ns)
	}
	t.Cleanup(func() { _ = ipBatch("", del, true) })
	l.must(ipBatch("", add, false))

	// The lan: a bridge with one port per node, whose peer is the node's
	// lan interface (created straight in the node's namespace).
	lan := []string{"link set lo up", "link add br0 type bridge", "link set br0 up"}
	port := func(name, peer, ns string) {
		lan = append(lan,
			fmt.Sprintf("link add %s type veth peer name %s netns %s", name, peer, ns),
			fmt.Sprintf("link set %s master br0", name),
			fmt.Sprintf("link set %s up", name))
	}
	port("router", "lan0", l.Router)
	for i, d := range l.Directors {
		port(fmt.Sprintf("dir%d", i+1), "eth0", d.NS)
	}
	for j, b := range l.Servers {
		port(fmt.Sprintf("rs%d", j+1), "eth0", b.NS)
	}
	l.must(ipBatch(l.LAN, lan, false))

	l.must(ipBatch(l.Router, []string{
		"link set lo up",
		"link add cli0 type veth peer name eth0 netns " + l.Client,
		"addr add " + RouterClientAddr.String() + "/24 dev cli0",
		"link set cli0 up",
		"addr add " + RouterLANAddr.String() + "/24 dev lan0",
		"link set lan0 up",
	}, false))
	l.must(ipBatch(l.Client, []string{
		"link set lo up",
		"addr add " + ClientAddr4.String() + "/24 dev eth0",
		"link set eth0 up",
		"route add default via " + RouterClientAddr.String(),
	}, false))
	node := func(ns string, a netip.Addr) {
		l.must(ipBatch(ns, []string{
			"link set lo up",
			"addr add " + ECMPVIP.String() + "/32 dev lo",
			"addr add " + a.String() + "/24 dev eth0",
			"link set eth0 up",
			"route add default via " + RouterLANAddr.String(),
		}, false))
		l.must(Sysctl(ns, "net/ipv4/conf/all/arp_ignore", "1"))
		l.must(Sysctl(ns, "net/ipv4/conf/all/arp_announce", "2"))
	}
	l.must(Sysctl(l.Router, "net/ipv4/ip_forward", "1"))
	l.must(Sysctl(l.Router, "net/ipv4/fib_multipath_hash_policy", "1"))
	for _, d := range l.Directors {
		node(d.NS, d.Addr4)
		l.must(Sysctl(d.NS, "net/ipv4/vs/sloppy_tcp", "1"))
	}
	for _, b := range l.Servers {
		node(b.NS, b.Addr4)
		l.must(b.Start())
		t.Cleanup(b.Stop)
	}
	return l
}

func (l *ECMPLab) must(err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}

// ipBatch runs iproute2 commands, one per line as `ip -batch` reads them,
// in namespace ns ("" for the current one); with force it goes on after a
// failed command.
func ipBatch(ns string, cmds []string, force bool) error {
	var args []string
	if ns != "" {
		args = append(args, "-n", ns)
	}
	if force {
		args = append(args, "-force")
	}
	args = append(args, "-batch", "-")
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s\ncommands:\n%s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)), strings.Join(cmds, "\n"))
	}
	return nil
}

// Run runs a command in namespace ns and returns its output; a failure
// fails the test.
func (l *ECMPLab) Run(ns, name string, args ...string) string {
	l.t.Helper()
	out, err := InNetns(ns, name, args...)
	l.must(err)
	return out
}

// RouteVIP points the router's route to ECMPVIP/32 at the directors: one
// nexthop per director (equal cost), or a plain route for one. It replaces
// whatever route the router had for the VIP.
func (l *ECMPLab) RouteVIP(ds ...*Director) {
	l.t.Helper()
	if len(ds) == 0 {
		l.t.Fatal("RouteVIP: no director")
	}
	args := []string{"-n", l.Router, "route", "replace", ECMPVIP.String() + "/32"}
	if len(ds) == 1 {
		args = append(args, "via", ds[0].Addr4.String(), "dev", "lan0")
	} else {
		for _, d := range ds {
			args = append(args, "nexthop", "via", d.Addr4.String(), "dev", "lan0")
		}
	}
	l.must(IP(args...))
}

// DeleteVIPRoute removes the router's static route to ECMPVIP, if any
// (before routes learnt over BGP take over: BIRD's kernel protocol adds
// its routes with metric 32, behind a static one's 0).
func (l *ECMPLab) DeleteVIPRoute() {
	l.t.Helper()
	if l.VIPRoute() != "" {
		l.must(IP("-n", l.Router, "route", "del", ECMPVIP.String()+"/32"))
	}
}

// VIPRoute is the router's `ip route show` of ECMPVIP/32 ("" when it has
// none).
func (l *ECMPLab) VIPRoute() string {
	l.t.Helper()
	return strings.TrimSpace(l.Run(l.Router, "ip", "route", "show", ECMPVIP.String()+"/32"))
}

// HTTPClient returns an HTTP client whose connections come from the
// client namespace, each request on a new connection.
func (l *ECMPLab) HTTPClient(timeout time.Duration) *http.Client {
	return HTTPClientIn(l.Client, timeout)
}

// Dial opens a TCP connection from the client namespace to addr.
func (l *ECMPLab) Dial(addr netip.AddrPort) (*Conn, error) { return DialFrom(l.Client, addr) }

// StartEcho serves the echo line protocol (Lab.StartEcho) on port of
// every real server, on its lan address and on ECMPVIP, until the test
// ends.
func (l *ECMPLab) StartEcho(port uint16) {
	l.t.Helper()
	for _, b := range l.Servers {
		stop, err := b.ServeEcho(port)
		l.must(err)
		l.t.Cleanup(stop)
	}
}

// Tally is what a batch of requests through a virtual service did.
type Tally struct {
	Requests   int
	Errors     int            // requests that failed
	ByServer   map[string]int // answers per real server name
	ByDirector map[string]int // connections per director, from its IPVS counters
}

// Send makes n HTTP requests (GET /, each on a new connection, so from a
// new source port) from the client to svc, then waits (up to 10 s: IPVS
// refreshes its counters every 2 s) until the directors' connection
// counters of the TCP service svc have grown by n altogether, and returns
// the answers per real server and the connections per director. A failed
// request is counted and logged.
func (l *ECMPLab) Send(svc netip.AddrPort, n int) Tally {
	l.t.Helper()
	before := l.DirectorConns(svc)
	c := l.HTTPClient(3 * time.Second)
	url := "http://" + svc.String() + "/"
	tally := Tally{Requests: n, ByServer: map[string]int{}, ByDirector: map[string]int{}}
	for i := 0; i < n; i++ {
		body, err := Get(c, url)
		if err != nil {
			tally.Errors++
			l.t.Logf("request %d to %s: %v", i, url, err)
			continue
		}
		tally.ByServer[body]++
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		sum := 0
		for name, v := range l.DirectorConns(svc) {
			tally.ByDirector[name] = int(v - before[name])
			sum += tally.ByDirector[name]
		}
		if sum >= n || time.Now().After(deadline) {
			return tally
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// DirectorConns returns each director's connection counter (the IPVS
// stats' Conns, refreshed every 2 s) of the TCP service svc, by director
// name.
func (l *ECMPLab) DirectorConns(svc netip.AddrPort) map[string]uint64 {
	l.t.Helper()
	out := map[string]uint64{}
	for _, d := range l.Directors {
		s, err := d.IPVS().Service(tcpKey(svc))
		l.must(err)
		out[d.Name] = s.Stats.Conns
	}
	return out
}

func tcpKey(svc netip.AddrPort) model.ServiceKey {
	return model.ServiceKey{Family: model.FamilyOf(svc.Addr()), Protocol: model.TCP, Addr: svc.Addr(), Port: svc.Port()}
}

// ServerByAddr returns the real server with lan address a, or nil.
func (l *ECMPLab) ServerByAddr(a netip.Addr) *Backend {
	for _, b := range l.Servers {
		if b.Addr4 == a {
			return b
		}
	}
	return nil
}

// Run runs a command in the director's namespace and returns its output;
// a failure fails the test.
func (d *Director) Run(name string, args ...string) string {
	d.t.Helper()
	out, err := InNetns(d.NS, name, args...)
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// IPVS returns a client bound to the director's IPVS (opened once, closed
// when the test ends).
func (d *Director) IPVS() *ipvs.Client {
	d.t.Helper()
	if d.ipvs == nil {
		err := Do(d.NS, func() error {
			c, err := ipvs.Open()
			d.ipvs = c
			return err
		})
		if err != nil {
			d.t.Fatal(err)
		}
		d.t.Cleanup(func() { d.ipvs.Close() })
	}
	return d.ipvs
}

// Flow is one entry of a director's IPVS connection table (ipvsadm -Lnc).
type Flow struct {
	Proto   string // TCP, UDP, SCTP
	State   string // ESTABLISHED, SYN_RECV, FIN_WAIT, ...
	Client  netip.AddrPort
	Virtual netip.AddrPort
	Dest    netip.AddrPort // the real server
}

// Flows lists the director's IPVS connection entries.
func (d *Director) Flows() ([]Flow, error) {
	out, err := InNetns(d.NS, "ipvsadm", "-L", "-n", "-c")
	if err != nil {
		return nil, err
	}
	var flows []Flow
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || (f[0] != "TCP" && f[0] != "UDP" && f[0] != "SCTP") {
			continue
		}
		fl := Flow{Proto: f[0], State: f[2]}
		var errs [3]error
		fl.Client, errs[0] = netip.ParseAddrPort(f[3])
		fl.Virtual, errs[1] = netip.ParseAddrPort(f[4])
		fl.Dest, errs[2] = netip.ParseAddrPort(f[5])
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("%s: ipvsadm -Lnc line %q: %w", d.Name, line, err)
			}
		}
		flows = append(flows, fl)
	}
	return flows, nil
}

// Flow returns the director's connection entry for the flow from client,
// if it has one; an error fails the test.
func (d *Director) Flow(client netip.AddrPort) (Flow, bool) {
	d.t.Helper()
	f, ok := d.FlowsByClient()[client]
	return f, ok
}

// FlowsByClient lists the director's connection entries by client address
// and port (one listing for many lookups); an error fails the test.
func (d *Director) FlowsByClient() map[netip.AddrPort]Flow {
	d.t.Helper()
	flows, err := d.Flows()
	if err != nil {
		d.t.Fatal(err)
	}
	m := make(map[netip.AddrPort]Flow, len(flows))
	for _, f := range flows {
		m[f.Client] = f
	}
	return m
}
