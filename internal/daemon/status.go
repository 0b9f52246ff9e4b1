package daemon

import (
	"encoding/json"
	"os"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/status"
)

// Status returns the daemon's view: the engine's services and servers with
// the kernel's connection counts and rates (read once).
func (d *Daemon) Status() status.Status {
	st := d.engine.Stats()
	out := status.Status{Version: d.opts.Version, Config: d.opts.ConfigPath, PID: os.Getpid(), StateDir: d.dir.Path,
		Reconciles: st.Reconciles, OpsApplied: st.OpsApplied, OpsFailed: st.OpsFailed, Repairs: st.Repairs,
		TableReads: st.TableReads, LastApplied: status.Stamp(st.LastApplied), Overrides: []string{},
		Services: []status.ServiceStatus{}}
	d.mu.Lock()
	if lr := d.lastReload; !lr.At.IsZero() {
		out.LastReload = &status.ReloadStatus{At: status.Stamp(lr.At), Trigger: lr.Trigger, Error: lr.Err}
	}
	d.mu.Unlock()
	set, _ := d.engine.Overrides()
	for _, o := range set {
		out.Overrides = append(out.Overrides, o.String()+" (since "+status.Stamp(o.At)+")")
	}
	kernel := map[model.ServiceKey]*ipvs.Service{}
	if table, err := d.table.Table(); err != nil {
		out.KernelError = err.Error()
	} else {
		for i := range table {
			kernel[table[i].ServiceKey] = &table[i]
		}
	}
	out.BGP = d.bgpStatus()
	out.VRRP = d.vrrpStatus()
	for _, sv := range d.engine.View() {
		out.Services = append(out.Services, serviceStatus(sv, kernel[sv.Key]))
	}
	return out
}

func serviceStatus(sv engine.ServiceView, k *ipvs.Service) status.ServiceStatus {
	ss := status.ServiceStatus{Service: sv.Key.String(), Name: sv.Name, State: status.ServiceNormal,
		Servers: make([]status.ServerStatus, 0, len(sv.Servers))}
	switch {
	case sv.SorryActive:
		ss.State = status.ServiceSorry
	case sv.QuorumLost:
		ss.State = status.ServiceQuorumLost
	}
	dests := map[model.DestKey]*ipvs.Dest{}
	if k != nil {
		ss.Scheduler = k.Scheduler
		ss.Connections = k.Stats.Conns
		ss.Rates = rates(k.Stats)
		for i := range k.Dests {
			dests[k.Dests[i].DestKey] = &k.Dests[i]
		}
	}
	for _, v := range sv.Servers {
		s := status.ServerStatus{Server: v.Key.String(), Name: v.Name, Weight: v.Configured, KernelWeight: v.Kernel,
			State: v.State, Up: v.Health.Up, Reason: v.Health.Reason,
			DrainDeadline: status.Stamp(v.LeavingDeadline), SlowStartSince: status.Stamp(v.RampSince)}
		if v.Health.Weight >= 0 {
			w := v.Health.Weight
			s.CheckWeight = &w
		}
		for _, o := range v.Overrides {
			s.Overrides = append(s.Overrides, o.String())
		}
		if !v.LeavingDeadline.IsZero() && v.Conns >= 0 {
			c := v.Conns
			s.Connections = &c
		}
		if kd := dests[v.Key]; kd != nil {
			s.Active, s.Inactive, s.Rates = int(kd.ActiveConns), int(kd.InactConns), rates(kd.Stats)
			ss.Active += s.Active
			ss.Inactive += s.Inactive
		}
		for _, c := range v.Checks {
			s.Checks = append(s.Checks, status.CheckStatus{Kind: string(c.Kind), Target: c.Target, State: c.State,
				LastAt: status.Stamp(c.At), LastOK: c.OK, LastMessage: c.Msg,
				LastTookMS: float64(c.Took.Microseconds()) / 1000})
		}
		ss.Servers = append(ss.Servers, s)
	}
	return ss
}

func rates(s ipvs.Stats) status.Rates {
	return status.Rates{Connections: s.CPS, InPackets: s.InPPS, OutPackets: s.OutPPS, InBytes: s.InBPS, OutBytes: s.OutBPS}
}

// vrrpStatus is the virtual routers' state.
func (d *Daemon) vrrpStatus() []status.VRRPStatus {
	var out []status.VRRPStatus
	for _, v := range d.vrrp.Status() {
		out = append(out, status.VRRPStatus(v))
	}
	return out
}

// bgpStatus is the speaker's peers and the services' announcements (nil
// without bgp).
func (d *Daemon) bgpStatus() *status.BGPStatus {
	st := d.ann.Status()
	if st == nil {
		return nil
	}
	out := &status.BGPStatus{ASN: st.ASN, RouterID: st.RouterID, Peers: []status.PeerStatus{}, Announcements: []status.AnnouncementStatus{}}
	for _, p := range st.Peers {
		out.Peers = append(out.Peers, status.PeerStatus{Address: p.Address.String(), ASN: p.ASN, State: p.State,
			Since: status.Stamp(p.Since), Reason: p.Reason, Advertised: p.Advertised, BFD: p.BFD})
	}
	announced := map[string]bool{}
	for _, p := range st.Announced {
		announced[p] = true
	}
	for _, a := range d.engine.Announcements() {
		as := status.AnnouncementStatus{Prefix: a.Prefix.String(), Announced: a.Announced && announced[a.Prefix.String()], Reason: a.Reason}
		if why, failed := st.Failing[a.Prefix.String()]; failed {
			as.Reason = "the speaker refused it: " + why
		}
		for _, k := range a.Services {
			as.Services = append(as.Services, k.String())
		}
		out.Announcements = append(out.Announcements, as)
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
