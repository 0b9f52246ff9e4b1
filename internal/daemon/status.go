package daemon

import (
	"encoding/json"
	"os"
	"time"

	"github.com/luvs-lb/luvs/internal/engine"
)

// Status is what `luvs status` shows (and the control socket's "status"
// answers, as JSON).
type Status struct {
	Config      string          `json:"config"`
	PID         int             `json:"pid"`
	StateDir    string          `json:"state_dir"`
	Reconciles  int             `json:"reconciles"`
	OpsApplied  int             `json:"ops_applied"`
	OpsFailed   int             `json:"ops_failed"`
	Repairs     int             `json:"repairs"`
	TableReads  int             `json:"kernel_table_reads"`
	LastApplied string          `json:"last_applied,omitempty"`
	LastReload  *ReloadStatus   `json:"last_reload,omitempty"`
	Overrides   []string        `json:"overrides"`
	Services    []ServiceStatus `json:"services"`
}

// ReloadStatus is the outcome of the last reload.
type ReloadStatus struct {
	At      string `json:"at"`
	Trigger string `json:"trigger"`
	Error   string `json:"error,omitempty"`
}

// ServiceStatus is a virtual service: "normal", "quorum_lost" or
// "sorry_server" (quorum lost, its sorry server standing in).
type ServiceStatus struct {
	Service string         `json:"service"`
	Name    string         `json:"name,omitempty"`
	State   string         `json:"state"`
	Servers []ServerStatus `json:"servers"`
}

// ServerStatus is a real server: its weight in the file and in the kernel,
// its state (engine.State*), why a check failed, and the overrides on it.
type ServerStatus struct {
	Server string `json:"server"`
	Name   string `json:"name,omitempty"`
	// Weight is the configuration file's (-1: not in it); KernelWeight the
	// table's (-1: absent).
	Weight       int      `json:"weight"`
	KernelWeight int      `json:"kernel_weight"`
	State        string   `json:"state"`
	Up           bool     `json:"up"`
	Reason       string   `json:"reason,omitempty"`
	CheckWeight  *int     `json:"check_weight,omitempty"`
	Overrides    []string `json:"overrides,omitempty"`
	// DrainDeadline and Connections are set while the server leaves the
	// table; SlowStartSince while its weight ramps.
	DrainDeadline  string `json:"drain_deadline,omitempty"`
	Connections    *int   `json:"connections,omitempty"`
	SlowStartSince string `json:"slow_start_since,omitempty"`
}

// Status returns the daemon's view.
func (d *Daemon) Status() Status {
	st := d.engine.Stats()
	out := Status{Config: d.opts.ConfigPath, PID: os.Getpid(), StateDir: d.dir.Path,
		Reconciles: st.Reconciles, OpsApplied: st.OpsApplied, OpsFailed: st.OpsFailed, Repairs: st.Repairs,
		TableReads: st.TableReads, Overrides: []string{}, Services: []ServiceStatus{}}
	if !st.LastApplied.IsZero() {
		out.LastApplied = st.LastApplied.Format(time.RFC3339)
	}
	d.mu.Lock()
	if lr := d.lastReload; !lr.At.IsZero() {
		out.LastReload = &ReloadStatus{At: lr.At.Format(time.RFC3339), Trigger: lr.Trigger, Error: lr.Err}
	}
	d.mu.Unlock()
	set, _ := d.engine.Overrides()
	for _, o := range set {
		out.Overrides = append(out.Overrides, o.String()+" (since "+o.At.Format(time.RFC3339)+")")
	}
	for _, sv := range d.engine.View() {
		ss := ServiceStatus{Service: sv.Key.String(), Name: sv.Name, State: "normal", Servers: make([]ServerStatus, 0, len(sv.Servers))}
		switch {
		case sv.SorryActive:
			ss.State = "sorry_server"
		case sv.QuorumLost:
			ss.State = "quorum_lost"
		}
		for _, v := range sv.Servers {
			s := ServerStatus{Server: v.Key.String(), Name: v.Name, Weight: v.Configured, KernelWeight: v.Kernel,
				State: v.State, Up: v.Health.Up, Reason: v.Health.Reason}
			if v.Health.Weight >= 0 {
				w := v.Health.Weight
				s.CheckWeight = &w
			}
			for _, o := range v.Overrides {
				s.Overrides = append(s.Overrides, o.String())
			}
			if !v.LeavingDeadline.IsZero() {
				s.DrainDeadline = v.LeavingDeadline.Format(time.RFC3339)
				if v.Conns >= 0 {
					c := v.Conns
					s.Connections = &c
				}
			}
			if !v.RampSince.IsZero() {
				s.SlowStartSince = v.RampSince.Format(time.RFC3339)
			}
			ss.Servers = append(ss.Servers, s)
		}
		out.Services = append(out.Services, ss)
	}
	return out
}

// StatusJSON is Status as indented JSON.
func (d *Daemon) StatusJSON() (string, error) {
	b, err := json.MarshalIndent(d.Status(), "", "  ")
	return string(b), err
}

// States lists the server states a status may show (for documentation and
// the command line's legend).
var States = []string{engine.StateUp, engine.StateDown, engine.StateUnknown, engine.StateDrain, engine.StateMaint,
	engine.StateLeaving, engine.StateSlowStart, engine.StateRemoved, engine.StateSorry, engine.StateScripted}
