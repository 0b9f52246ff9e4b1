package fakeipvs

import (
	"errors"

	"github.com/luvs-lb/luvs/internal/model"
)

// The IPVS-wide settings: connection timeouts and sync daemons, with the
// kernel's defaults (900, 120 and 300 s) and its answers to a second
// daemon of one role (EEXIST) or stopping one that is not running (ESRCH).

// Timeouts returns the connection timeouts.
func (k *Kernel) Timeouts() (model.Timeouts, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.timeouts == (model.Timeouts{}) {
		k.timeouts = model.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}
	}
	return k.timeouts, nil
}

// SetTimeouts sets the non-zero timeouts.
func (k *Kernel) SetTimeouts(t model.Timeouts) error {
	cur, _ := k.Timeouts()
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.TCP != 0 {
		cur.TCP = t.TCP
	}
	if t.TCPFin != 0 {
		cur.TCPFin = t.TCPFin
	}
	if t.UDP != 0 {
		cur.UDP = t.UDP
	}
	k.timeouts = cur
	k.globalChanges++
	return nil
}

// Daemons lists the running sync daemons, with the kernel's defaults
// filled in as the kernel reports them.
func (k *Kernel) Daemons() ([]model.SyncDaemon, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []model.SyncDaemon
	for _, st := range []model.SyncState{model.SyncMaster, model.SyncBackup} {
		if d, ok := k.daemons[st]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// StartDaemon starts a sync daemon.
func (k *Kernel) StartDaemon(d model.SyncDaemon) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.daemons == nil {
		k.daemons = map[model.SyncState]model.SyncDaemon{}
	}
	if _, ok := k.daemons[d.State]; ok {
		return errors.New("a sync daemon with this role is already running (EEXIST)")
	}
	if d.MaxLen == 0 {
		d.MaxLen = 1472
	}
	if d.Port == 0 {
		d.Port = 8848
	}
	if d.TTL == 0 {
		d.TTL = 1
	}
	k.daemons[d.State] = d
	k.globalChanges++
	return nil
}

// StopDaemon stops the sync daemon of a role.
func (k *Kernel) StopDaemon(st model.SyncState) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.daemons[st]; !ok {
		return errors.New("no sync daemon with this role is running (ESRCH)")
	}
	delete(k.daemons, st)
	k.globalChanges++
	return nil
}

// GlobalChanges counts the changes made to timeouts and sync daemons.
func (k *Kernel) GlobalChanges() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.globalChanges
}
