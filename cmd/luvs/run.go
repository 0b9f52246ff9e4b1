package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/control"
	"github.com/luvs-lb/luvs/internal/daemon"
	"github.com/luvs-lb/luvs/internal/statedir"
)

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
At start a server already in the kernel keeps its weight there (a drained
server stays drained) until its checks decide.

One daemon runs per network namespace (IPVS tables are per namespace): it
holds a lock in --state-dir, and a second 'luvs run' exits 1 naming the
first one's pid. The services the daemon manages are recorded there too, so
that after a crash or a restart the services the configuration no longer
has are deleted; services luvs never managed are never touched.

The kernel is read back every --repair-interval and changes made behind
luvs's back to its services are repaired (and logged).

SIGHUP or 'luvs reload' reloads FILE: it is validated first, and on any
problem the running configuration stays and every problem is logged;
otherwise only the difference is applied, and the health of servers whose
checks did not change is kept. SIGTERM or SIGINT stop the checks and leave
the kernel table as it is (traffic keeps flowing) unless --cleanup-on-exit.

--listen (or its older name --metrics) ADDR serves, over HTTP on HOST:PORT:
a status page at / (every service and server with its state, weights,
connections, rates and last check; a filter box; refreshes itself),
the same data as JSON at /api/v1/status (what 'luvs status --json' prints)
and Prometheus metrics at /metrics. It shows no part of the configuration
file but its path; bind it to a management address.

Logs go to standard error, one line per event (slog text or JSON).`,
		Example: `  luvs run /etc/luvs/web.lua
  luvs run --log-format json --repair-interval 30s --listen 127.0.0.1:9477 /etc/luvs/web.lua`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("socket") {
				socket = statedir.SocketPath(control.DefaultPath)
			}
			d, err := daemon.Start(daemon.Options{
				ConfigPath: args[0], StateDir: stateDir, Socket: socket, MetricsAddr: metricsAddr, Version: version, Revision: buildRevision(),
				RepairInterval: repair, CleanupOnExit: cleanup, Logger: log, LuaOutput: os.Stderr, LoadLimits: loadLimits(),
				OpenKernel: func() (daemon.Kernel, error) { return openIPVS() },
			})
			if err != nil {
				var in *daemon.InputError
				if errors.As(err, &in) {
					return inputError{err}
				}
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
						_ = d.Reload(ctx, "SIGHUP")
					}
				}
			}()
			return d.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&socket, "socket", control.DefaultPath, "control socket for 'luvs reload' and 'luvs status' (empty: none; outside the host's network namespace the default is luvs-NAMESPACE.sock)")
	f.DurationVar(&repair, "repair-interval", 10*time.Second, "how often to read the kernel back and repair changes made outside luvs (0: never)")
	f.BoolVar(&cleanup, "cleanup-on-exit", false, "delete luvs's services when stopping (default: leave them, traffic keeps flowing)")
	f.StringVar(&metricsAddr, "listen", "", "serve the status page (/), its JSON (/api/v1/status) and Prometheus metrics (/metrics) on HOST:PORT, e.g. 127.0.0.1:9477 (empty: off)")
	f.StringVar(&metricsAddr, "metrics", "", "the same as --listen (its older name)")
	return cmd
}

func newReloadCmd() *cobra.Command {
	var socket string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Ask the running daemon to reload its configuration",
		Long: `Ask 'luvs run' (through its control socket) to reload its configuration file.
The daemon validates it first; on any problem it keeps running the old
configuration, and this command prints every problem and exits 2.

--dry-run validates the file and prints the changes a reload would make to
the table now (with the current health and the operator's overrides),
without making them.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := "reload"
			if dryRun {
				req = "reload --dry-run"
			}
			out, err := send(cmd, socket, req, 2*time.Minute)
			if err != nil {
				return err
			}
			fmt.Print(out)
			return nil
		},
	}
	cmd.Flags().StringVar(&socket, "socket", control.DefaultPath, socketHelp)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what a reload would change, change nothing")
	return cmd
}
