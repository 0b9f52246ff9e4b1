package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/ipvs"
)

var labSeq atomic.Int32

// Lab is one isolated test network:
//
//	client ns ──veth── director ns (IPVS, VIPs on lo) ──veth── backend ns 1..n
//
// Backend i has 198.18.i.2/24 and 2001:db8:i::2/64, reaching the director at
// .1 / ::1; the client has 198.18.200.2 and 2001:db8:200::2.
type Lab struct {
	t        testing.TB
	Prefix   string // namespace name prefix, unique per lab
	Director string // director namespace name
	Client   string // client namespace name
	ipvs     *ipvs.Client
	backends []*Backend
}

// ClientAddr4 and ClientAddr6 are the client namespace's addresses.
var (
	ClientAddr4 = netip.MustParseAddr("198.18.200.2")
	ClientAddr6 = netip.MustParseAddr("2001:db8:200::2")
)

// NewLab creates the director and client namespaces. Everything is removed
// when the test ends.
func NewLab(t testing.TB) *Lab {
	t.Helper()
	l := &Lab{t: t, Prefix: fmt.Sprintf("lab%d", labSeq.Add(1))}
	l.Director = l.Prefix + "-dir"
	l.Client = l.Prefix + "-cli"
	l.addNetns(l.Director)
	l.must(Sysctl(l.Director, "net/ipv4/ip_forward", "1"))
	l.must(Sysctl(l.Director, "net/ipv6/conf/all/forwarding", "1"))
	l.addNetns(l.Client)
	l.link(l.Client, "c0", 200)
	return l
}

func (l *Lab) must(err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}

func (l *Lab) addNetns(name string) {
	l.t.Helper()
	l.must(IP("netns", "add", name))
	l.t.Cleanup(func() { _ = IP("netns", "del", name) })
	l.must(IP("-n", name, "link", "set", "lo", "up"))
}

// link connects namespace ns to the director with a veth pair on subnet n:
// 198.18.n.0/24 and 2001:db8:n::/64, director at .1, ns at .2, default
// routes in ns via the director.
func (l *Lab) link(ns, dirSide string, n int) {
	l.t.Helper()
	l.must(IP("link", "add", l.Prefix+dirSide, "type", "veth", "peer", "name", l.Prefix+"p"))
	l.must(IP("link", "set", l.Prefix+dirSide, "netns", l.Director))
	l.must(IP("link", "set", l.Prefix+"p", "netns", ns))
	l.must(IP("-n", l.Director, "link", "set", l.Prefix+dirSide, "name", dirSide))
	l.must(IP("-n", ns, "link", "set", l.Prefix+"p", "name", "eth0"))
	l.must(IP("-n", l.Director, "addr", "add", fmt.Sprintf("198.18.%d.1/24", n), "dev", dirSide))
	l.must(IP("-n", l.Director, "addr", "add", fmt.Sprintf("2001:db8:%d::1/64", n), "dev", dirSide, "nodad"))
	l.must(IP("-n", l.Director, "link", "set", dirSide, "up"))
	l.must(IP("-n", ns, "addr", "add", fmt.Sprintf("198.18.%d.2/24", n), "dev", "eth0"))
	l.must(IP("-n", ns, "addr", "add", fmt.Sprintf("2001:db8:%d::2/64", n), "dev", "eth0", "nodad"))
	l.must(IP("-n", ns, "link", "set", "eth0", "up"))
	l.must(IP("-n", ns, "route", "add", "default", "via", fmt.Sprintf("198.18.%d.1", n)))
	l.must(IP("-n", ns, "-6", "route", "add", "default", "via", fmt.Sprintf("2001:db8:%d::1", n)))
}

// AddVIP puts a virtual address on the director's loopback.
func (l *Lab) AddVIP(a netip.Addr) {
	l.t.Helper()
	args := []string{"-n", l.Director, "addr", "add", netip.PrefixFrom(a, a.BitLen()).String(), "dev", "lo"}
	if a.Is6() {
		args = append(args, "nodad")
	}
	l.must(IP(args...))
}

// IPVS returns a client bound to the director's IPVS (opened once).
func (l *Lab) IPVS() *ipvs.Client {
	l.t.Helper()
	if l.ipvs == nil {
		l.must(Do(l.Director, func() error {
			c, err := ipvs.Open()
			l.ipvs = c
			return err
		}))
		l.t.Cleanup(func() { l.ipvs.Close() })
	}
	return l.ipvs
}

// Run runs a command in the director namespace and returns its output.
func (l *Lab) Run(name string, args ...string) string {
	l.t.Helper()
	out, err := InNetns(l.Director, name, args...)
	l.must(err)
	return out
}

// Backend is an HTTP server in its own namespace answering with its name.
type Backend struct {
	Name  string
	NS    string
	Addr4 netip.Addr
	Addr6 netip.Addr // may be zero: an IPv4-only backend
	// VIPs are more local addresses to serve on, e.g. a direct-routing
	// real server's virtual addresses on its lo.
	VIPs []netip.Addr
	srv  *http.Server
	mu   sync.Mutex
	hits int
}

// AddBackend creates backend number n (1..99) listening on port 80 on both
// its IPv4 and IPv6 addresses.
func (l *Lab) AddBackend(n int) *Backend {
	l.t.Helper()
	b := &Backend{
		Name:  fmt.Sprintf("backend%d", n),
		NS:    fmt.Sprintf("%s-b%d", l.Prefix, n),
		Addr4: netip.MustParseAddr(fmt.Sprintf("198.18.%d.2", n)),
		Addr6: netip.MustParseAddr(fmt.Sprintf("2001:db8:%d::2", n)),
	}
	l.addNetns(b.NS)
	l.link(b.NS, fmt.Sprintf("b%d", n), n)
	l.must(b.Start())
	l.t.Cleanup(b.Stop)
	l.backends = append(l.backends, b)
	return b
}

// Start begins serving HTTP on port 80 (both families, and the VIPs).
func (b *Backend) Start() error {
	var lns []net.Listener
	err := Do(b.NS, func() error {
		for _, a := range b.addrs(true) {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(a, 80).String())
			if err != nil {
				return err
			}
			lns = append(lns, ln)
		}
		return nil
	})
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return fmt.Errorf("start %s: %w", b.Name, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.hits++
		b.mu.Unlock()
		io.WriteString(w, b.Name)
	}), ReadHeaderTimeout: 5 * time.Second}
	srv.SetKeepAlivesEnabled(false)
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	for _, ln := range lns {
		go srv.Serve(ln)
	}
	return nil
}

// addrs lists the addresses the backend serves on: Addr4, Addr6 (if any
// and with6) and the VIPs.
func (b *Backend) addrs(with6 bool) []netip.Addr {
	out := []netip.Addr{b.Addr4}
	if with6 && b.Addr6.IsValid() {
		out = append(out, b.Addr6)
	}
	for _, a := range b.VIPs {
		if with6 || a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

// Stop closes the server (connections to it are refused afterwards).
func (b *Backend) Stop() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Hits returns how many requests the backend served.
func (b *Backend) Hits() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits
}

// HTTPClient returns an HTTP client whose connections originate in the
// client namespace, without keep-alive so every request is a new connection
// (and so a new IPVS scheduling decision).
func (l *Lab) HTTPClient(timeout time.Duration) *http.Client {
	return HTTPClientIn(l.Client, timeout)
}

// HTTPClientIn returns an HTTP client whose connections originate in
// namespace ns, without keep-alive (every request is a new connection).
func HTTPClientIn(ns string, timeout time.Duration) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := Do(ns, func() error {
			var err error
			d := net.Dialer{Timeout: timeout}
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true},
	}
}

// Get fetches url from the client namespace and returns the body.
func (l *Lab) Get(c *http.Client, url string) (string, error) { return Get(c, url) }

// Get fetches url with c and returns the body; a status other than 200 is
// an error.
func Get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

// Spread sends n requests to url and counts answers per backend name; a
// failed request is counted under "error".
func (l *Lab) Spread(url string, n int) map[string]int {
	c := l.HTTPClient(3 * time.Second)
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		body, err := l.Get(c, url)
		if err != nil {
			counts["error"]++
			var ne net.Error
			if !errors.As(err, &ne) {
				l.t.Logf("request %d: %v", i, err)
			}
			continue
		}
		counts[body]++
	}
	return counts
}
