package engine

import (
	"slices"

	"github.com/luvs-lb/luvs/internal/globals"
	"github.com/luvs-lb/luvs/internal/model"
)

// applyGlobals sets the configuration's timeouts, sysctls and sync daemons
// (with those that follow a VRRP role, SetFollowedSync) when the data plane
// holds them (the kernel does; test fakes may not), stopping the sync
// daemons an earlier configuration or role declared and this one does not.
// Failures are logged: they do not stop the balancing.
func (e *Engine) applyGlobals(cfg *model.Config, why string) {
	p, ok := e.opts.DataPlane.(globals.Plane)
	if !ok {
		return
	}
	if len(e.followedSync) > 0 {
		merged := *cfg
		merged.SyncDaemons = slices.Concat(cfg.SyncDaemons, e.followedSync)
		cfg = &merged
	}
	changes, err := globals.Apply(p, cfg, e.syncRoles, false)
	for _, ch := range changes {
		e.log.Info("kernel setting changed", "change", string(ch), "why", why)
	}
	if err != nil {
		e.log.Warn("kernel settings not applied", "error", err, "why", why)
	}
	e.syncRoles = slices.Compact(slices.Sorted(slices.Values(append(globals.Roles(cfg), e.followedRoles...))))
}

// SetFollowedSync sets the connection-sync daemons that follow a VRRP
// role (master while master, backup otherwise), on top of those the
// configuration declares, and applies them at once; why is logged with the
// changes ("vrrp VI_1 became master").
func (e *Engine) SetFollowedSync(daemons []model.SyncDaemon, why string) error {
	if !e.call(func() {
		e.followedSync = slices.Clone(daemons)
		for _, d := range daemons {
			if !slices.Contains(e.followedRoles, d.State) {
				e.followedRoles = append(e.followedRoles, d.State)
			}
		}
		e.applyGlobals(e.cfg, why)
	}) {
		return ErrStopped
	}
	return nil
}
