package daemon

import (
	"encoding/json"
	"os"
	"sort"
	"time"
)

// Status is what `luvs status` shows.
type Status struct {
	Config      string         `json:"config"`
	PID         int            `json:"pid"`
	StateDir    string         `json:"state_dir"`
	Reconciles  int            `json:"reconciles"`
	OpsApplied  int            `json:"ops_applied"`
	OpsFailed   int            `json:"ops_failed"`
	Repairs     int            `json:"repairs"`
	TableReads  int            `json:"kernel_table_reads"`
	LastApplied string         `json:"last_applied,omitempty"`
	LastReload  *ReloadStatus  `json:"last_reload,omitempty"`
	Servers     []ServerStatus `json:"servers"`
}

// ReloadStatus is the outcome of the last reload.
type ReloadStatus struct {
	At      string `json:"at"`
	Trigger string `json:"trigger"`
	Error   string `json:"error,omitempty"`
}

// ServerStatus is a real server whose checks have something to say (a
// server not listed is up).
type ServerStatus struct {
	Service string `json:"service"`
	Server  string `json:"server"`
	Up      bool   `json:"up"`
	Unknown bool   `json:"unknown,omitempty"`
	Weight  int    `json:"weight_override,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Status returns the daemon's view.
func (d *Daemon) Status() Status {
	st := d.engine.Stats()
	out := Status{Config: d.opts.ConfigPath, PID: os.Getpid(), StateDir: d.dir.Path,
		Reconciles: st.Reconciles, OpsApplied: st.OpsApplied, OpsFailed: st.OpsFailed, Repairs: st.Repairs,
		TableReads: st.TableReads, Servers: []ServerStatus{}}
	if !st.LastApplied.IsZero() {
		out.LastApplied = st.LastApplied.Format(time.RFC3339)
	}
	d.mu.Lock()
	if lr := d.lastReload; !lr.At.IsZero() {
		out.LastReload = &ReloadStatus{At: lr.At.Format(time.RFC3339), Trigger: lr.Trigger, Error: lr.Err}
	}
	d.mu.Unlock()
	for k, h := range d.engine.Health() {
		s := ServerStatus{Service: k.Service.String(), Server: k.Dest.String(), Up: h.Up, Unknown: h.Unknown, Reason: h.Reason}
		if h.Weight >= 0 {
			s.Weight = h.Weight
		}
		out.Servers = append(out.Servers, s)
	}
	sort.Slice(out.Servers, func(i, j int) bool {
		a, b := out.Servers[i], out.Servers[j]
		return a.Service < b.Service || (a.Service == b.Service && a.Server < b.Server)
	})
	return out
}

// StatusJSON is Status as indented JSON.
func (d *Daemon) StatusJSON() (string, error) {
	b, err := json.MarshalIndent(d.Status(), "", "  ")
	return string(b), err
}
