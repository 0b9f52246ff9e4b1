package testbed

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/luvs-lb/luvs/internal/testlog"
)

// BirdConfig is a BIRD 2 configuration for a router that learns routes
// over BGP from its neighbours and installs them in the kernel, merging
// equal routes from several neighbours into one multipath (ECMP) route.
type BirdConfig struct {
	RouterID  netip.Addr
	LocalAS   uint32
	Interface string // where BFD runs (the neighbours' link)
	// BFD asks for a BFD session to each neighbour (bfd on). A session that
	// never comes up does not hold BGP back; one that goes down restarts
	// the BGP session.
	BFD bool
	// Passive waits for the neighbours to connect (to port 179) instead
	// of also connecting to them.
	Passive   bool
	Neighbors []BirdNeighbor
	// Extra is appended to the configuration as it is.
	Extra string
}

// BirdNeighbor is one BGP session of a BirdConfig.
type BirdNeighbor struct {
	Name string // the BIRD protocol name (a symbol: letters, digits, _)
	Addr netip.Addr
	AS   uint32
}

var birdTemplate = template.Must(template.New("bird.conf").Parse(`# BIRD 2 configuration of the luvs ECMP lab's router (testbed.BirdConfig).
router id {{.RouterID}};
log stderr all;

protocol device {
	scan time 10;
}

# Learnt routes go to the kernel; equal ones from several neighbours make
# one multipath route.
protocol kernel {
	ipv4 {
		export all;
	};
	merge paths on;
}

protocol bfd {
	interface "{{.Interface}}" {
		min rx interval 100 ms;
		min tx interval 100 ms;
		multiplier 5;
	};
}

template bgp director {
	local as {{.LocalAS}};
{{- if .Passive}}
	passive on;
{{- end}}
{{- if .BFD}}
	bfd on;
{{- end}}
	ipv4 {
		import all;
		export none;
	};
	# After a session error BIRD waits 60 s by default before it takes a
	# session again; a director back on the network should not.
	error wait time 1, 10;
}
{{range .Neighbors}}
protocol bgp {{.Name}} from director {
	neighbor {{.Addr}} as {{.AS}};
}
{{end}}
{{- with .Extra}}
{{.}}
{{end -}}
`))

// String renders the configuration.
func (c BirdConfig) String() string {
	var b strings.Builder
	if err := birdTemplate.Execute(&b, c); err != nil {
		panic(err) // the template only reads fields
	}
	return b.String()
}

// BirdConfig is the router's configuration for the lab: router id
// RouterLANAddr, AS 65000, passive, BFD on lan0, one BGP neighbour per
// director ("director1".., AS 65001).
func (l *ECMPLab) BirdConfig() BirdConfig {
	c := BirdConfig{RouterID: RouterLANAddr, LocalAS: 65000, Interface: "lan0", BFD: true, Passive: true}
	for _, d := range l.Directors {
		c.Neighbors = append(c.Neighbors, BirdNeighbor{Name: d.Name, Addr: d.Addr4, AS: 65001})
	}
	return c
}

// Bird is a BIRD daemon running in the foreground in a namespace.
type Bird struct {
	NS     string
	Dir    string // holds bird.conf, the control socket and the pid file
	Socket string // control socket, for birdc -s
	t      testing.TB
	cmd    *exec.Cmd
	done   chan struct{}
	logs   testlog.Buffer
}

// StartBird runs bird with config in the router namespace (see StartBird).
func (l *ECMPLab) StartBird(config string) *Bird {
	l.t.Helper()
	return StartBird(l.t, l.Router, config)
}

// StartBird runs `bird -f` with config in namespace ns and waits (up to
// 15 s) until its control socket answers. It is stopped when the test
// ends; its log (log stderr) is shown when the test failed.
func StartBird(t testing.TB, ns, config string) *Bird {
	t.Helper()
	// Not t.TempDir: a unix socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "bird")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b := &Bird{NS: ns, Dir: dir, Socket: filepath.Join(dir, "bird.ctl"), t: t, done: make(chan struct{})}
	conf := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command("ip", "netns", "exec", ns, "bird", "-f", "-c", conf, "-s", b.Socket, "-P", filepath.Join(dir, "bird.pid"))
	b.cmd.Stdout, b.cmd.Stderr = &b.logs, &b.logs
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("bird in %s:\n%s", ns, b.logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-b.done:
			t.Fatalf("bird exited at start: %v\n%s\nconfig:\n%s", b.cmd.ProcessState, b.logs.String(), config)
		default:
		}
		if _, err := b.Command("show", "status"); err == nil {
			return b
		} else if time.Now().After(deadline) {
			t.Fatalf("bird's control socket does not answer after 15 s: %v\n%s", err, b.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Command runs `birdc -s SOCKET ARGS...` and returns its output without
// the "BIRD x.y.z ready." greeting.
func (b *Bird) Command(args ...string) (string, error) {
	out, err := exec.Command("birdc", append([]string{"-s", b.Socket}, args...)...).CombinedOutput()
	s := string(out)
	if first, rest, ok := strings.Cut(s, "\n"); ok && strings.HasPrefix(first, "BIRD ") && strings.HasSuffix(first, " ready.") {
		s = rest
	}
	if err != nil {
		return s, fmt.Errorf("birdc %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(s))
	}
	return s, nil
}

// ShowRoute is `birdc show route` (all tables).
func (b *Bird) ShowRoute() (string, error) { return b.Command("show", "route") }

// BirdProtocol is one line of `birdc show protocols`.
type BirdProtocol struct {
	Name  string
	Proto string // Device, Kernel, BFD, BGP, ...
	Table string
	State string // up, start, down, ...
	Since string
	Info  string // e.g. "Established", "Passive", "Active", "Connect"
}

// Protocols lists `birdc show protocols`.
func (b *Bird) Protocols() ([]BirdProtocol, error) {
	out, err := b.Command("show", "protocols")
	if err != nil {
		return nil, err
	}
	var ps []BirdProtocol
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || (f[0] == "Name" && f[1] == "Proto") {
			continue
		}
		ps = append(ps, BirdProtocol{Name: f[0], Proto: f[1], Table: f[2], State: f[3], Since: f[4], Info: strings.Join(f[5:], " ")})
	}
	return ps, nil
}

// Logs returns what bird logged so far.
func (b *Bird) Logs() string { return b.logs.String() }

// Stop terminates bird (SIGTERM; killed after 10 s) and waits for it.
func (b *Bird) Stop() {
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
}
