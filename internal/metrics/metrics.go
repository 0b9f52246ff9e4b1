// Package metrics exposes the daemon's state in the Prometheus format:
// real-server health and weights, the kernel's per-service and per-server
// counters (read once per scrape), and the engine's work counters.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/ipvs"
)

// Source is what the collector reads.
type Source interface {
	Health() map[engine.ServerKey]engine.Health
	Stats() engine.Stats
}

// Kernel reads the live table (for counters and weights).
type Kernel interface {
	Table() ([]ipvs.Service, error)
}

// Reloads counts configuration reloads by result.
type Reloads struct{ Applied, Rejected atomic.Int64 }

type collector struct {
	src     Source
	kernel  Kernel
	reloads *Reloads
}

var (
	labelsSvc  = []string{"service"}
	labelsDest = []string{"service", "server"}

	descUp        = prometheus.NewDesc("luvs_real_server_up", "1 when the real server's health checks pass.", labelsDest, nil)
	descWeight    = prometheus.NewDesc("luvs_real_server_weight", "The real server's weight in the kernel table.", labelsDest, nil)
	descActive    = prometheus.NewDesc("luvs_real_server_active_connections", "Active connections to the real server.", labelsDest, nil)
	descInactive  = prometheus.NewDesc("luvs_real_server_inactive_connections", "Inactive connections to the real server.", labelsDest, nil)
	descDestConns = prometheus.NewDesc("luvs_real_server_connections_total", "Connections scheduled to the real server.", labelsDest, nil)
	descDestIn    = prometheus.NewDesc("luvs_real_server_in_bytes_total", "Bytes from clients to the real server.", labelsDest, nil)
	descDestOut   = prometheus.NewDesc("luvs_real_server_out_bytes_total", "Bytes from the real server to clients.", labelsDest, nil)
	descSvcConns  = prometheus.NewDesc("luvs_service_connections_total", "Connections scheduled by the virtual service.", labelsSvc, nil)
	descSvcIn     = prometheus.NewDesc("luvs_service_in_bytes_total", "Bytes from clients to the virtual service.", labelsSvc, nil)
	descSvcOut    = prometheus.NewDesc("luvs_service_out_bytes_total", "Bytes from the virtual service to clients.", labelsSvc, nil)
	descReconcile = prometheus.NewDesc("luvs_reconciles_total", "Times the kernel table was compared with the desired state.", nil, nil)
	descApplied   = prometheus.NewDesc("luvs_changes_applied_total", "Changes applied to the kernel table.", nil, nil)
	descFailed    = prometheus.NewDesc("luvs_changes_failed_total", "Changes the kernel refused.", nil, nil)
	descRepairs   = prometheus.NewDesc("luvs_repairs_total", "Read-backs that found and repaired changes made outside luvs.", nil, nil)
	descReads     = prometheus.NewDesc("luvs_kernel_table_reads_total", "Full reads of the kernel table by the engine (at start, on repair ticks, after a failed apply).", nil, nil)
	descReloads   = prometheus.NewDesc("luvs_config_reloads_total", "Configuration reloads by result.", []string{"result"}, nil)
	descScrapeErr = prometheus.NewDesc("luvs_kernel_read_errors", "1 when this scrape could not read the kernel table.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descWeight, descActive, descInactive, descDestConns, descDestIn,
		descDestOut, descSvcConns, descSvcIn, descSvcOut, descReconcile, descApplied, descFailed, descRepairs, descReads,
		descReloads, descScrapeErr} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	for k, h := range c.src.Health() {
		up := 0.0
		if h.Up {
			up = 1
		}
		gauge(descUp, up, k.Service.String(), k.Dest.String())
	}
	st := c.src.Stats()
	counter(descReconcile, float64(st.Reconciles))
	counter(descApplied, float64(st.OpsApplied))
	counter(descFailed, float64(st.OpsFailed))
	counter(descRepairs, float64(st.Repairs))
	counter(descReads, float64(st.TableReads))
	counter(descReloads, float64(c.reloads.Applied.Load()), "applied")
	counter(descReloads, float64(c.reloads.Rejected.Load()), "rejected")
	table, err := c.kernel.Table()
	if err != nil {
		gauge(descScrapeErr, 1)
		return
	}
	gauge(descScrapeErr, 0)
	for _, s := range table {
		svc := s.ServiceKey.String()
		counter(descSvcConns, float64(s.Stats.Conns), svc)
		counter(descSvcIn, float64(s.Stats.InBytes), svc)
		counter(descSvcOut, float64(s.Stats.OutBytes), svc)
		for _, d := range s.Dests {
			dst := d.DestKey.String()
			gauge(descWeight, float64(d.Weight), svc, dst)
			gauge(descActive, float64(d.ActiveConns), svc, dst)
			gauge(descInactive, float64(d.InactConns), svc, dst)
			counter(descDestConns, float64(d.Stats.Conns), svc, dst)
			counter(descDestIn, float64(d.Stats.InBytes), svc, dst)
			counter(descDestOut, float64(d.Stats.OutBytes), svc, dst)
		}
	}
}

// CheckAddr reports whether addr is HOST:PORT, without listening.
func CheckAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("metrics address %q: %w (want HOST:PORT, e.g. 127.0.0.1:9477)", addr, err)
	}
	return nil
}

// Listen opens the metrics listener; an address without a port is bad
// input, reported at once rather than after the daemon has started.
func Listen(addr string) (net.Listener, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return ln, nil
}

// Serve exposes /metrics on ln until ctx is done.
func Serve(ctx context.Context, ln net.Listener, src Source, kernel Kernel, reloads *Reloads, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{src: src, kernel: kernel, reloads: reloads})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	defer stop()
	log.Info("metrics listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
