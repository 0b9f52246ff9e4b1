package check

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// nullKernel accepts every change and holds nothing.
type nullKernel struct{}

func (nullKernel) State() (*model.State, error) { return &model.State{}, nil }
func (nullKernel) Apply(ops []model.Op) *ipvs.ApplyResult {
	return &ipvs.ApplyResult{Ops: ops, Errors: make([]error, len(ops))}
}

type countingProber struct {
	c Checker
	n *atomic.Int64
}

func (p countingProber) Probe(ctx context.Context, a netip.Addr, port uint16) engine.ProbeResult {
	r := p.c.Probe(ctx, Target{Addr: a, Port: port})
	p.n.Add(1)
	return engine.ProbeResult{OK: r.OK, Weight: r.Weight, Msg: r.Msg}
}

// TestHelperTCPServer is the benchmark's TCP server process (it does
// nothing unless started by BenchmarkDaemonTCPChecks).
func TestHelperTCPServer(t *testing.T) {
	addr := os.Getenv("LUVS_HELPER_TCP_SERVER")
	if addr == "" {
		t.Skip("helper process for BenchmarkDaemonTCPChecks")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// BenchmarkDaemonTCPChecks runs the daemon's check engine (scheduler,
// rise/fall, health bookkeeping) with 10,000 TCP checks at a 500 ms
// interval — 20,000 checks per second asked for — against a local server,
// and reports the checks per second achieved. With -cpu 1 that is what one
// core sustains (target: 10,000/s):
//
//	go test -run x -bench Daemon -cpu 1 ./internal/check/
func BenchmarkDaemonTCPChecks(b *testing.B) {
	needNet(b)
	// The server runs in its own process, so that -cpu 1 limits only the
	// daemon's side.
	srv := exec.Command(os.Args[0], "-test.run=^TestHelperTCPServer$")
	srv.Env = append(os.Environ(), "LUVS_HELPER_TCP_SERVER=198.18.0.1:9099")
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	tgt := Target{Addr: addr1, Port: 9099}
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", tgt.String())
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			b.Fatal("helper server did not start:", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	key, _ := model.ParseServiceKey("198.18.100.1:80")
	chk := model.Check{Kind: model.CheckTCP, Interval: 500 * time.Millisecond, Timeout: 480 * time.Millisecond, Rise: 1, Fall: 3}
	cfg := &model.Config{}
	// 10,000 real servers, all with the local server as check target. The
	// timeouts differ by a microsecond so that each is its own probe (equal
	// checks of one target would be shared: see BenchmarkDaemonSharedChecks).
	for i := 0; i < 100; i++ {
		sk := key
		sk.Port = uint16(1000 + i)
		sc := model.ServiceConfig{Service: model.Service{ServiceKey: sk, Scheduler: "rr"}}
		for j := 0; j < 100; j++ {
			c := chk
			c.Addr, c.Port = tgt.Addr, tgt.Port
			c.Timeout += time.Duration(i*100+j) * time.Microsecond
			d := model.Dest{DestKey: model.DestKey{Addr: netip.AddrFrom4([4]byte{198, 19, byte(i), byte(j + 1)}), Port: 80}, Weight: 1}
			sc.Servers = append(sc.Servers, model.ServerConfig{Dest: d, Checks: []model.Check{c}, OnFail: model.Drain})
		}
		cfg.Services = append(cfg.Services, sc)
	}
	var n atomic.Int64
	base, err := New(chk)
	if err != nil {
		b.Fatal(err)
	}
	e, err := engine.New(cfg, engine.Options{DataPlane: nullKernel{}, RepairInterval: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Probers: func(model.Check) (engine.Prober, error) { return countingProber{base, &n}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	time.Sleep(1500 * time.Millisecond) // warm up: first probes are spread over a second
	b.ResetTimer()
	start, n0 := time.Now(), n.Load()
	for b.Loop() {
		time.Sleep(100 * time.Millisecond)
	}
	rate := float64(n.Load()-n0) / time.Since(start).Seconds()
	health := e.Health()
	cancel()
	<-done
	b.ReportMetric(rate, "checks/s")
	if len(health) != 10000 {
		b.Errorf("health of %d servers, want 10000", len(health))
	}
	for k, h := range health {
		if !h.Up {
			b.Errorf("%v went down: %s", k, h.Reason)
			break
		}
	}
}

// BenchmarkDaemonSharedChecks runs N services over the same 10 real
// servers, each with the same HTTP check (a common layout: many VIPs on one
// pool). The daemon probes each distinct (target, settings) once and fans the
// verdict out, so 1,000 services cost about what one does: it reports the
// probes per second and the CPU the daemon used per second.
func BenchmarkDaemonSharedChecks(b *testing.B) {
	needNet(b)
	var ports []uint16
	for p := uint16(9100); p < 9110; p++ {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(addr1, p).String())
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
		go srv.Serve(ln)
		defer srv.Close()
		ports = append(ports, p)
	}
	chk := model.Check{Kind: model.CheckHTTP, Interval: 500 * time.Millisecond, Timeout: 480 * time.Millisecond, Rise: 1, Fall: 1,
		HTTP: &model.HTTPCheck{Method: "GET", Path: "/"}}
	for _, services := range []int{1, 1000} {
		b.Run(fmt.Sprintf("services=%d", services), func(b *testing.B) {
			cfg := &model.Config{}
			for i := 0; i < services; i++ {
				key, _ := model.ParseServiceKey(fmt.Sprintf("198.18.%d.%d:80", 100+i/250, i%250+1))
				sc := model.ServiceConfig{Service: model.Service{ServiceKey: key, Scheduler: "rr"}}
				for _, p := range ports {
					c := chk
					c.HTTP = &model.HTTPCheck{Method: "GET", Path: "/"} // equal settings, another pointer
					c.Where = fmt.Sprintf("web.lua:%d:1", i+1)
					d := model.Dest{DestKey: model.DestKey{Addr: addr1, Port: p}, Weight: 1}
					sc.Servers = append(sc.Servers, model.ServerConfig{Dest: d, Checks: []model.Check{c}, OnFail: model.Drain})
				}
				cfg.Services = append(cfg.Services, sc)
			}
			var n atomic.Int64
			e, err := engine.New(cfg, engine.Options{DataPlane: nullKernel{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Probers: func(c model.Check) (engine.Prober, error) {
					ch, err := New(c)
					return countingProber{ch, &n}, err
				}})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { e.Run(ctx); close(done) }()
			time.Sleep(1500 * time.Millisecond)
			b.ResetTimer()
			start, n0, cpu0 := time.Now(), n.Load(), cpuTime()
			for b.Loop() {
				time.Sleep(100 * time.Millisecond)
			}
			secs := time.Since(start).Seconds()
			probes, cpu := float64(n.Load()-n0)/secs, (cpuTime()-cpu0).Seconds()*1000/secs
			health := e.Health()
			cancel()
			<-done
			b.ReportMetric(probes, "probes/s")
			b.ReportMetric(cpu, "cpu-ms/s")
			if st := e.Stats(); st.Probes != len(ports) {
				b.Errorf("%d probes scheduled for %d services over %d servers, want %d", st.Probes, services, len(ports), len(ports))
			}
			if len(health) != services*len(ports) {
				b.Errorf("health lists %d servers, want every service's view (%d)", len(health), services*len(ports))
			}
		})
	}
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
