package check

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"sync/atomic"
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
	chk := model.Check{Kind: model.CheckTCP, Interval: 500 * time.Millisecond, Timeout: time.Second, Rise: 1, Fall: 1}
	cfg := &model.Config{}
	// 10,000 real servers, all with the local server as check target.
	for i := 0; i < 100; i++ {
		sk := key
		sk.Port = uint16(1000 + i)
		sc := model.ServiceConfig{Service: model.Service{ServiceKey: sk, Scheduler: "rr"}}
		for j := 0; j < 100; j++ {
			c := chk
			c.Addr, c.Port = tgt.Addr, tgt.Port
			d := model.Dest{DestKey: model.DestKey{Addr: netip.AddrFrom4([4]byte{198, 19, byte(i), byte(j + 1)}), Port: 80}, Weight: 1}
			sc.Servers = append(sc.Servers, model.ServerConfig{Dest: d, Checks: []model.Check{c}, OnFail: model.Drain})
		}
		cfg.Services = append(cfg.Services, sc)
	}
	var n atomic.Int64
	base, _ := New(chk)
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
	cancel()
	<-done
	b.ReportMetric(rate, "checks/s")
	for k, h := range e.Health() {
		if !h.Up {
			b.Errorf("%v went down: %s", k, h.Reason)
			break
		}
	}
}
