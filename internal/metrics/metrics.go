// Package metrics exposes the daemon's state in the Prometheus format:
// real servers' state and weights, the kernel's per-service and per-server
// counters and rate estimates (read once per scrape, labelled as
// node_exporter's ipvs collector labels them), health-check durations and
// failures, and the daemon's work and reload counters.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// Source is what the collector reads.
type Source interface {
	View() []engine.ServiceView
	Stats() engine.Stats
}

// Kernel reads the live table (for counters and weights).
type Kernel interface {
	Table() ([]ipvs.Service, error)
}

// Reloads counts configuration reloads by result and keeps the time of the
// last one applied.
type Reloads struct {
	Applied, Rejected atomic.Int64
	lastOK            atomic.Int64 // unix nanoseconds
	lastFailed        atomic.Bool
}

// Done records a reload's outcome.
func (r *Reloads) Done(at time.Time, err error) {
	if err != nil {
		r.Rejected.Add(1)
		r.lastFailed.Store(true)
		return
	}
	r.Applied.Add(1)
	r.lastOK.Store(at.UnixNano())
	r.lastFailed.Store(false)
}

// Loaded records the configuration loaded at start (a success, not a
// reload).
func (r *Reloads) Loaded(at time.Time) { r.lastOK.Store(at.UnixNano()) }

// Metrics is the daemon's registry: the collector reading the engine and
// the kernel on each scrape, and the check observations.
type Metrics struct {
	reg       *prometheus.Registry
	checkTime *prometheus.HistogramVec
	checkFail *prometheus.CounterVec
}

// Labels of node_exporter's ipvs collector, which dashboards for IPVS
// use; then luvs's name labels.
var (
	labelsSvc  = []string{"local_address", "local_port", "local_mark", "proto", "service_name"}
	labelsDest = []string{"local_address", "local_port", "local_mark", "proto", "service_name", "remote_address", "remote_port", "name"}
)

func destDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string{}, labelsDest...), extra...), nil)
}

func svcDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labelsSvc, nil)
}

var (
	descUp         = destDesc("luvs_real_server_up", "1 when the real server's health checks pass.")
	descState      = destDesc("luvs_real_server_state", "1 for the real server's state (up, down, unknown, drain, maint, leaving, slow_start, removed, sorry, lua_changed).", "state")
	descWeight     = destDesc("luvs_real_server_weight", "The real server's weight in the kernel table.")
	descConfWeight = destDesc("luvs_real_server_configured_weight", "The real server's weight in the configuration file.")
	descActive     = destDesc("luvs_real_server_active_connections", "Active connections to the real server.")
	descInactive   = destDesc("luvs_real_server_inactive_connections", "Inactive connections to the real server.")
	descDestConns  = destDesc("luvs_real_server_connections_total", "Connections scheduled to the real server.")
	descDestInP    = destDesc("luvs_real_server_in_packets_total", "Packets from clients to the real server.")
	descDestOutP   = destDesc("luvs_real_server_out_packets_total", "Packets from the real server to clients.")
	descDestIn     = destDesc("luvs_real_server_in_bytes_total", "Bytes from clients to the real server.")
	descDestOut    = destDesc("luvs_real_server_out_bytes_total", "Bytes from the real server to clients.")
	descDestCPS    = destDesc("luvs_real_server_connections_per_second", "The kernel's estimate of new connections per second to the real server.")
	descDestInPPS  = destDesc("luvs_real_server_in_packets_per_second", "The kernel's estimate of packets per second from clients to the real server.")
	descDestOutPPS = destDesc("luvs_real_server_out_packets_per_second", "The kernel's estimate of packets per second from the real server.")
	descDestInBPS  = destDesc("luvs_real_server_in_bytes_per_second", "The kernel's estimate of bytes per second from clients to the real server.")
	descDestOutBPS = destDesc("luvs_real_server_out_bytes_per_second", "The kernel's estimate of bytes per second from the real server.")
	descSvcConns   = svcDesc("luvs_service_connections_total", "Connections scheduled by the virtual service.")
	descSvcInP     = svcDesc("luvs_service_in_packets_total", "Packets from clients to the virtual service.")
	descSvcOutP    = svcDesc("luvs_service_out_packets_total", "Packets from the virtual service to clients.")
	descSvcIn      = svcDesc("luvs_service_in_bytes_total", "Bytes from clients to the virtual service.")
	descSvcOut     = svcDesc("luvs_service_out_bytes_total", "Bytes from the virtual service to clients.")
	descSvcCPS     = svcDesc("luvs_service_connections_per_second", "The kernel's estimate of new connections per second to the virtual service.")
	descSvcInPPS   = svcDesc("luvs_service_in_packets_per_second", "The kernel's estimate of packets per second from clients.")
	descSvcOutPPS  = svcDesc("luvs_service_out_packets_per_second", "The kernel's estimate of packets per second to clients.")
	descSvcInBPS   = svcDesc("luvs_service_in_bytes_per_second", "The kernel's estimate of bytes per second from clients.")
	descSvcOutBPS  = svcDesc("luvs_service_out_bytes_per_second", "The kernel's estimate of bytes per second to clients.")
	descQuorum     = svcDesc("luvs_service_quorum_up", "1 while the virtual service has its quorum (0: lost, its sorry server or nothing standing in).")
	descReconcile  = prometheus.NewDesc("luvs_reconciles_total", "Times the kernel table was compared with the desired state.", nil, nil)
	descApplied    = prometheus.NewDesc("luvs_changes_applied_total", "Changes applied to the kernel table.", nil, nil)
	descFailed     = prometheus.NewDesc("luvs_changes_failed_total", "Changes the kernel refused.", nil, nil)
	descRepairs    = prometheus.NewDesc("luvs_repairs_total", "Read-backs that found and repaired changes made outside luvs.", nil, nil)
	descReads      = prometheus.NewDesc("luvs_kernel_table_reads_total", "Full reads of the kernel table by the engine (at start, on repair ticks, after a failed apply).", nil, nil)
	descReloads    = prometheus.NewDesc("luvs_config_reloads_total", "Configuration reloads by result.", []string{"result"}, nil)
	descLastReload = prometheus.NewDesc("luvs_config_last_reload_success_timestamp_seconds", "When the running configuration was loaded (at start or by the last successful reload), in seconds since the epoch.", nil, nil)
	descReloadOK   = prometheus.NewDesc("luvs_config_last_reload_successful", "0 when the last reload was rejected (the previous configuration runs), else 1.", nil, nil)
	descScrapeErr  = prometheus.NewDesc("luvs_kernel_read_errors", "1 when this scrape could not read the kernel table.", nil, nil)
)

// Build is what luvs_build_info reports.
type Build struct{ Version, Revision string }

// New returns the daemon's metrics, reading src and kernel on each scrape.
func New(src Source, kernel Kernel, reloads *Reloads, build Build) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		checkTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "luvs_check_duration_seconds",
			Help:    "How long health-check probes took, by check kind (a probe shared by several services counts once).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
		checkFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "luvs_check_failures_total",
			Help: "Failed health-check probes by check kind and reason (timeout, refused, reset, unreachable, http_status, content, digest, dns_rcode, tls, exit_status, lua_error, other).",
		}, []string{"kind", "reason"}),
	}
	m.reg.MustRegister(&collector{src: src, kernel: kernel, reloads: reloads}, m.checkTime, m.checkFail,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "luvs_build_info",
			Help:        "1, labelled with the build's version and revision and the Go version that built it.",
			ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "goversion": runtime.Version()},
		}, func() float64 { return 1 }))
	return m
}

// ObserveProbe records one probe (engine.Options.OnProbe).
func (m *Metrics) ObserveProbe(kind model.CheckKind, took time.Duration, r engine.ProbeResult) {
	m.checkTime.WithLabelValues(string(kind)).Observe(took.Seconds())
	if !r.OK {
		m.checkFail.WithLabelValues(string(kind), FailureReason(r.Msg)).Inc()
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler(errLog promhttp.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: errLog})
}

// failureReasons map words of a probe's message to a reason label, the
// first that matches winning.
var failureReasons = []struct{ word, reason string }{
	{"timed out", "timeout"}, {"timeout", "timeout"}, {"deadline", "timeout"}, {"no echo reply", "timeout"},
	{"refused", "refused"}, {"reset", "reset"},
	{"unreachable", "unreachable"}, {"no route", "unreachable"},
	{"x509", "tls"}, {"tls", "tls"}, {"certificate", "tls"},
	{"digest", "digest"}, {"http ", "http_status"},
	{"does not match", "content"}, {"does not contain", "content"}, {"no answer contains", "content"},
	{"rcode", "dns_rcode"}, {"exit status", "exit_status"}, {"lua", "lua_error"},
}

// FailureReason sorts a failed probe's message into a few reasons, so that
// the failure counter keeps a small set of series.
func FailureReason(msg string) string {
	msg = strings.ToLower(msg)
	for _, fr := range failureReasons {
		if strings.Contains(msg, fr.word) {
			return fr.reason
		}
	}
	return "other"
}

type collector struct {
	src     Source
	kernel  Kernel
	reloads *Reloads
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descState, descWeight, descConfWeight, descActive, descInactive,
		descDestConns, descDestInP, descDestOutP, descDestIn, descDestOut, descDestCPS, descDestInPPS, descDestOutPPS,
		descDestInBPS, descDestOutBPS, descSvcConns, descSvcInP, descSvcOutP, descSvcIn, descSvcOut, descSvcCPS,
		descSvcInPPS, descSvcOutPPS, descSvcInBPS, descSvcOutBPS, descQuorum, descReconcile, descApplied, descFailed,
		descRepairs, descReads, descReloads, descLastReload, descReloadOK, descScrapeErr} {
		ch <- d
	}
}

// svcLabels are a service's labels as node_exporter writes them: a
// firewall-mark service has an empty address, port 0, proto "FWM" and its
// mark.
func svcLabels(k model.ServiceKey, name string) []string {
	if k.IsFWMark() {
		return []string{"", "0", strconv.FormatUint(uint64(k.FWMark), 10), "FWM", name}
	}
	return []string{k.Addr.String(), strconv.Itoa(int(k.Port)), "", k.Protocol.String(), name}
}

func destLabels(svc []string, d model.DestKey, name string) []string {
	return append(append(make([]string, 0, len(labelsDest)), svc...), d.Addr.String(), strconv.Itoa(int(d.Port)), name)
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	st := c.src.Stats()
	counter(descReconcile, float64(st.Reconciles))
	counter(descApplied, float64(st.OpsApplied))
	counter(descFailed, float64(st.OpsFailed))
	counter(descRepairs, float64(st.Repairs))
	counter(descReads, float64(st.TableReads))
	counter(descReloads, float64(c.reloads.Applied.Load()), "applied")
	counter(descReloads, float64(c.reloads.Rejected.Load()), "rejected")
	if t := c.reloads.lastOK.Load(); t != 0 {
		gauge(descLastReload, float64(t)/1e9)
	}
	ok := 1.0
	if c.reloads.lastFailed.Load() {
		ok = 0
	}
	gauge(descReloadOK, ok)

	// The engine's view: state and names; the kernel's table: counters.
	names := map[model.ServiceKey]string{}
	destNames := map[engine.ServerKey]string{}
	for _, sv := range c.src.View() {
		names[sv.Key] = sv.Name
		sl := svcLabels(sv.Key, sv.Name)
		quorum := 1.0
		if sv.QuorumLost {
			quorum = 0
		}
		gauge(descQuorum, quorum, sl...)
		for _, v := range sv.Servers {
			destNames[engine.ServerKey{Service: sv.Key, Dest: v.Key}] = v.Name
			dl := destLabels(sl, v.Key, v.Name)
			up := 0.0
			if v.Health.Up {
				up = 1
			}
			gauge(descUp, up, dl...)
			gauge(descState, 1, append(dl, v.State)...)
			if v.Configured >= 0 {
				gauge(descConfWeight, float64(v.Configured), dl...)
			}
		}
	}
	table, err := c.kernel.Table()
	if err != nil {
		gauge(descScrapeErr, 1)
		return
	}
	gauge(descScrapeErr, 0)
	for _, s := range table {
		sl := svcLabels(s.ServiceKey, names[s.ServiceKey])
		counter(descSvcConns, float64(s.Stats.Conns), sl...)
		counter(descSvcInP, float64(s.Stats.InPkts), sl...)
		counter(descSvcOutP, float64(s.Stats.OutPkts), sl...)
		counter(descSvcIn, float64(s.Stats.InBytes), sl...)
		counter(descSvcOut, float64(s.Stats.OutBytes), sl...)
		gauge(descSvcCPS, float64(s.Stats.CPS), sl...)
		gauge(descSvcInPPS, float64(s.Stats.InPPS), sl...)
		gauge(descSvcOutPPS, float64(s.Stats.OutPPS), sl...)
		gauge(descSvcInBPS, float64(s.Stats.InBPS), sl...)
		gauge(descSvcOutBPS, float64(s.Stats.OutBPS), sl...)
		for _, d := range s.Dests {
			dl := destLabels(sl, d.DestKey, destNames[engine.ServerKey{Service: s.ServiceKey, Dest: d.DestKey}])
			gauge(descWeight, float64(d.Weight), dl...)
			gauge(descActive, float64(d.ActiveConns), dl...)
			gauge(descInactive, float64(d.InactConns), dl...)
			counter(descDestConns, float64(d.Stats.Conns), dl...)
			counter(descDestInP, float64(d.Stats.InPkts), dl...)
			counter(descDestOutP, float64(d.Stats.OutPkts), dl...)
			counter(descDestIn, float64(d.Stats.InBytes), dl...)
			counter(descDestOut, float64(d.Stats.OutBytes), dl...)
			gauge(descDestCPS, float64(d.Stats.CPS), dl...)
			gauge(descDestInPPS, float64(d.Stats.InPPS), dl...)
			gauge(descDestOutPPS, float64(d.Stats.OutPPS), dl...)
			gauge(descDestInBPS, float64(d.Stats.InBPS), dl...)
			gauge(descDestOutBPS, float64(d.Stats.OutBPS), dl...)
		}
	}
}
