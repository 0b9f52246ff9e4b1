package engine

import (
	"github.com/luvs-lb/luvs/internal/globals"
	"github.com/luvs-lb/luvs/internal/model"
)

// applyGlobals sets the configuration's timeouts and sync daemons when the
// data plane holds them (the kernel does; test fakes may not), stopping the
// sync daemons an earlier configuration declared and this one does not.
// Failures are logged: they do not stop the balancing.
func (e *Engine) applyGlobals(cfg *model.Config, why string) {
	p, ok := e.opts.DataPlane.(globals.Plane)
	if !ok {
		return
	}
	changes, err := globals.Apply(p, cfg, e.syncRoles, false)
	for _, ch := range changes {
		e.log.Info("kernel setting changed", "change", string(ch), "why", why)
	}
	if err != nil {
		e.log.Warn("kernel settings not applied", "error", err, "why", why)
	}
	e.syncRoles = globals.Roles(cfg)
}
