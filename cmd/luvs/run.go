package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/check"
	"github.com/luvs-lb/luvs/internal/control"
	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/luacheck"
	"github.com/luvs-lb/luvs/internal/luaconf"
	"github.com/luvs-lb/luvs/internal/metrics"
	"github.com/luvs-lb/luvs/internal/model"
)

// prober adapts a check.Checker to the engine.
type prober struct{ c check.Checker }

func (p prober) Probe(ctx context.Context, addr netip.Addr, port uint16) engine.ProbeResult {
	r := p.c.Probe(ctx, check.Target{Addr: addr, Port: port})
	return engine.ProbeResult{OK: r.OK, Weight: r.Weight, Msg: r.Msg}
}

func newProber(c model.Check) (engine.Prober, error) {
	ch, err := check.New(c)
	if err != nil {
		return nil, err
	}
	return prober{ch}, nil
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, badInput("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, badInput("--log-format %q: want text or json", format)
}

func newRunCmd() *cobra.Command {
	var (
		logFormat, logLevel, socket, metricsAddr string
		repair                                   time.Duration
		cleanup                                  bool
	)
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run the daemon: health checks, and the kernel kept equal to FILE",
		Long: `Load FILE strictly (as 'luvs check'), adopt whatever matching services the
kernel already has (no flush: traffic is not interrupted on start or
restart), apply the difference, then run every health check and keep the
kernel equal to the configuration adjusted by health: a failing real server
is drained (weight 0) or removed (on_fail = "remove") and restored after
'rise' good checks; a service below its quorum switches to its sorry server.
The kernel is read back every --repair-interval and changes made behind
luvs's back to its services are repaired (and logged). Services luvs does not
manage are never touched.

SIGHUP or 'luvs reload' reloads FILE: it is validated first, and on any
problem the running configuration stays and every problem is logged;
otherwise only the difference is applied, and the health of servers whose
checks did not change is kept. SIGTERM or SIGINT stop the checks and leave
the kernel table as it is (traffic keeps flowing) unless --cleanup-on-exit.

Logs go to standard error, one line per event (slog text or JSON).`,
		Example: `  luvs run /etc/luvs/web.lua
  luvs run --log-format json --repair-interval 30s /etc/luvs/web.lua`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			path := args[0]
			res, err := loadConfig(path)
			if err != nil {
				return err
			}
			c, err := openIPVS()
			if err != nil {
				res.Close()
				return err
			}
			defer c.Close()
			e, err := engine.New(res.Config, engine.Options{DataPlane: c, Probers: newProber, Logger: log, RepairInterval: repair, CleanupOnExit: cleanup})
			if err != nil {
				res.Close()
				return err
			}
			st := res.Config.State()
			log.Info("luvs starting", "config", path, "services", len(st.Services), "servers", st.DestCount(), "pid", os.Getpid())

			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			var reloads metrics.Reloads
			var mu sync.Mutex // serialises reloads
			current := res
			// The Lua health checks run on the configuration's own state; a
			// reload stops them before that state is closed.
			scripts := startScripts(ctx, res, e, log)
			reload := func(ctx context.Context, why string) error {
				mu.Lock()
				defer mu.Unlock()
				next, err := luaconf.Load(path, luaconf.Options{Output: os.Stderr})
				if err != nil {
					var ps luaconf.Problems
					if errors.As(err, &ps) {
						for _, p := range ps {
							log.Error("config problem", "at", p.Pos.String(), "msg", p.Msg)
						}
						reloads.Rejected.Add(1)
						log.Error("reload rejected: the running configuration stays", "trigger", why, "problems", len(ps))
						return fmt.Errorf("reload rejected, %d problem(s):\n%w", len(ps), err)
					}
					reloads.Rejected.Add(1)
					log.Error("reload rejected: the running configuration stays", "trigger", why, "err", err)
					return err
				}
				before := e.Stats().OpsApplied
				scripts.stop()
				if err := e.Reload(ctx, next.Config); err != nil {
					next.Close()
					scripts = startScripts(ctx, current, e, log)
					log.Error("reload failed", "trigger", why, "err", err)
					return err
				}
				current.Close()
				current = next
				scripts = startScripts(ctx, current, e, log)
				reloads.Applied.Add(1)
				nst := next.Config.State()
				log.Info("reload applied", "trigger", why, "services", len(nst.Services), "servers", nst.DestCount(),
					"changes", e.Stats().OpsApplied-before)
				return nil
			}
			defer func() { mu.Lock(); scripts.stop(); current.Close(); mu.Unlock() }()

			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
						_ = reload(ctx, "SIGHUP")
					}
				}
			}()
			if socket != "" {
				go func() {
					err := control.Serve(ctx, socket, func(ctx context.Context, cmd string) (string, error) {
						switch cmd {
						case "reload":
							if err := reload(ctx, "luvs reload"); err != nil {
								return "", err
							}
							return "reload applied", nil
						case "status":
							return statusJSON(e)
						}
						return "", fmt.Errorf("unknown command %q (reload, status)", cmd)
					})
					if err != nil {
						log.Error("control socket disabled", "err", err)
					}
				}()
			}

			if metricsAddr != "" {
				go func() {
					if err := metrics.Serve(ctx, metricsAddr, e, c, &reloads, log); err != nil {
						log.Error("metrics disabled", "err", err)
					}
				}()
			}
			// Loading a large configuration allocates far more than the daemon
			// keeps: hand that back to the system before settling down.
			debug.FreeOSMemory()
			runErr := e.Run(ctx)
			log.Info("luvs stopped", "cleanup", cleanup)
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&socket, "socket", control.DefaultPath, "control socket for 'luvs reload' and 'luvs status' (empty: none)")
	f.DurationVar(&repair, "repair-interval", 10*time.Second, "how often to read the kernel back and repair changes made outside luvs")
	f.BoolVar(&cleanup, "cleanup-on-exit", false, "delete luvs's services when stopping (default: leave them, traffic keeps flowing)")
	f.StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9477; empty: off)")
	return cmd
}

// scriptRun is a running set of Lua health checks.
type scriptRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startScripts(ctx context.Context, res *luaconf.Result, e *engine.Engine, log *slog.Logger) *scriptRun {
	sctx, cancel := context.WithCancel(ctx)
	sr := &scriptRun{cancel: cancel, done: make(chan struct{})}
	if !res.HasScripts() {
		// Without Lua health checks the Lua state is not needed after
		// loading: free it (a third of the daemon's memory at 10,000 servers).
		res.Close()
		close(sr.done)
		return sr
	}
	r := luacheck.New(res.L, res.Config, e, res.ServerFor, log)
	go func() { r.Run(sctx); close(sr.done) }()
	return sr
}

func (s *scriptRun) stop() {
	s.cancel()
	<-s.done
}

func statusJSON(e *engine.Engine) (string, error) {
	type server struct {
		Service string `json:"service"`
		Server  string `json:"server"`
		Up      bool   `json:"up"`
		Weight  int    `json:"weight_override,omitempty"`
		Reason  string `json:"reason,omitempty"`
	}
	st := e.Stats()
	out := struct {
		Reconciles  int      `json:"reconciles"`
		OpsApplied  int      `json:"ops_applied"`
		OpsFailed   int      `json:"ops_failed"`
		Repairs     int      `json:"repairs"`
		LastApplied string   `json:"last_applied,omitempty"`
		Servers     []server `json:"servers"`
	}{Reconciles: st.Reconciles, OpsApplied: st.OpsApplied, OpsFailed: st.OpsFailed, Repairs: st.Repairs, Servers: []server{}}
	if !st.LastApplied.IsZero() {
		out.LastApplied = st.LastApplied.Format(time.RFC3339)
	}
	for k, h := range e.Health() {
		s := server{Service: k.Service.String(), Server: k.Dest.String(), Up: h.Up, Reason: h.Reason}
		if h.Weight >= 0 {
			s.Weight = h.Weight
		}
		out.Servers = append(out.Servers, s)
	}
	sort.Slice(out.Servers, func(i, j int) bool {
		a, b := out.Servers[i], out.Servers[j]
		return a.Service < b.Service || (a.Service == b.Service && a.Server < b.Server)
	})
	b, err := json.MarshalIndent(out, "", "  ")
	return string(b), err
}

// controlCmd is a command that sends one request to the running daemon and
// prints its answer; an answer that is an error (a rejected reload) is bad
// input (exit 2), an unreachable daemon a failure (exit 1).
func controlCmd(use, short, long, request string, timeout time.Duration) *cobra.Command {
	var socket string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := control.Send(socket, request, timeout)
			var re *control.RemoteError
			if errors.As(err, &re) {
				return inputError{err}
			}
			if err != nil {
				return err
			}
			fmt.Print(out)
			return nil
		},
	}
	cmd.Flags().StringVar(&socket, "socket", control.DefaultPath, "the daemon's control socket")
	return cmd
}

func newReloadCmd() *cobra.Command {
	return controlCmd("reload", "Ask the running daemon to reload its configuration",
		`Ask 'luvs run' (through its control socket) to reload its configuration file.
The daemon validates it first; on any problem it keeps running the old
configuration, and this command prints every problem and exits 2.`, "reload", 2*time.Minute)
}

func newStatusCmd() *cobra.Command {
	return controlCmd("status", "Show the running daemon's health view and counters (JSON)", "", "status", 10*time.Second)
}
