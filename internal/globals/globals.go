// Package globals keeps the IPVS-wide settings of a configuration in the
// kernel: the connection timeouts, the connection-sync daemons and the
// sysctls. Like the table, they are read first and changed only where they
// differ.
package globals

import (
	"fmt"
	"slices"

	"github.com/luvs-lb/luvs/internal/model"
)

// Plane is the part of a data plane that holds the IPVS-wide settings
// (the ipvs client has these methods).
type Plane interface {
	Timeouts() (model.Timeouts, error)
	SetTimeouts(model.Timeouts) error
	Daemons() ([]model.SyncDaemon, error)
	StartDaemon(model.SyncDaemon) error
	StopDaemon(model.SyncState) error
}

// Change is one change made (or, with a dry run, planned).
type Change string

// Apply makes the kernel's timeouts, sysctls and sync daemons what cfg asks
// for: timeouts and sysctls set in cfg are set if they differ; each declared sync daemon is
// started, or restarted when it runs with other settings; the daemons of
// the roles in stop are stopped if cfg no longer declares them (a daemon
// that a reload removed). Daemons cfg does not mention are otherwise left
// alone. It returns the changes made, and the first error (after trying
// every change).
func Apply(p Plane, cfg *model.Config, stop []model.SyncState, dryRun bool) ([]Change, error) {
	var changes []Change
	var errs []error
	do := func(c Change, fn func() error) {
		if dryRun {
			changes = append(changes, c)
			return
		}
		if err := fn(); err != nil {
			errs = append(errs, err)
			return
		}
		changes = append(changes, c)
	}
	if t := cfg.Timeouts; t != nil {
		cur, err := p.Timeouts()
		if err != nil {
			return nil, err
		}
		if (t.TCP != 0 && t.TCP != cur.TCP) || (t.TCPFin != 0 && t.TCPFin != cur.TCPFin) || (t.UDP != 0 && t.UDP != cur.UDP) {
			do(Change(fmt.Sprintf("set timeouts %s (were tcp %ds, tcp_fin %ds, udp %ds)", t.String(), cur.TCP, cur.TCPFin, cur.UDP)),
				func() error { return p.SetTimeouts(*t) })
		}
	}
	if len(cfg.Sysctls) > 0 {
		sys, ok := p.(Sysctler)
		if !ok {
			sys = ProcSys{}
		}
		if err := applySysctls(sys, cfg, do); err != nil {
			errs = append(errs, err)
		}
	}
	if len(cfg.SyncDaemons) == 0 && len(stop) == 0 {
		return changes, firstErr(errs)
	}
	running, err := p.Daemons()
	if err != nil {
		return changes, err
	}
	byState := map[model.SyncState]model.SyncDaemon{}
	for _, d := range running {
		byState[d.State] = d
	}
	declared := map[model.SyncState]bool{}
	for _, want := range cfg.SyncDaemons {
		declared[want.State] = true
		cur, ok := byState[want.State]
		switch {
		case !ok:
			do(Change("start "+want.String()), func() error { return p.StartDaemon(want) })
		case !Matches(cur, want):
			do(Change(fmt.Sprintf("restart %s (was %s)", want.String(), cur.String())), func() error {
				if err := p.StopDaemon(want.State); err != nil {
					return err
				}
				return p.StartDaemon(want)
			})
		}
	}
	for _, st := range stop {
		if _, ok := byState[st]; ok && !declared[st] {
			do(Change(fmt.Sprintf("stop %s sync daemon (no longer configured)", st)), func() error { return p.StopDaemon(st) })
		}
	}
	return changes, firstErr(errs)
}

// Matches reports whether a running daemon has the settings want asks
// for. A setting want leaves at zero (the kernel's default) matches any.
func Matches(running, want model.SyncDaemon) bool {
	return running.State == want.State && running.Interface == want.Interface && running.SyncID == want.SyncID &&
		(want.MaxLen == 0 || running.MaxLen == want.MaxLen) &&
		(!want.Group.IsValid() || running.Group == want.Group) &&
		(want.Port == 0 || running.Port == want.Port) &&
		(want.TTL == 0 || running.TTL == want.TTL)
}

// Roles are the sync daemon roles cfg declares.
func Roles(cfg *model.Config) []model.SyncState {
	var out []model.SyncState
	for _, d := range cfg.SyncDaemons {
		if !slices.Contains(out, d.State) {
			out = append(out, d.State)
		}
	}
	return out
}

func firstErr(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}
