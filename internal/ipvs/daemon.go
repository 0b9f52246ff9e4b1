package ipvs

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/model"
)

// StartDaemon starts a sync daemon.
func (cl *Client) StartDaemon(d model.SyncDaemon) error {
	if d.Interface == "" {
		return fmt.Errorf("start %s sync daemon: an interface is required", d.State)
	}
	var w attrWriter
	n := w.nest(cmdAttrDaemon)
	w.u32(daemonAttrState, uint32(d.State))
	w.str(daemonAttrMcastIfn, d.Interface)
	w.u32(daemonAttrSyncID, uint32(d.SyncID))
	if d.MaxLen != 0 {
		w.u16(daemonAttrSyncMaxLen, d.MaxLen)
	}
	if d.Group.Is4() {
		g := d.Group.As4()
		w.put(daemonAttrMcastGroup, g[:])
	} else if d.Group.Is6() {
		g := d.Group.As16()
		w.put(daemonAttrMcastGrp6, g[:])
	}
	if d.Port != 0 {
		w.u16(daemonAttrMcastPort, d.Port)
	}
	if d.TTL != 0 {
		w.u8(daemonAttrMcastTTL, d.TTL)
	}
	w.end(n)
	if err := cl.do(cmdNewDaemon, false, w.b, nil); err != nil {
		return fmt.Errorf("start %s sync daemon on %s: %w", d.State, d.Interface, describeDaemon(err))
	}
	return nil
}

// StopDaemon stops the sync daemon with the given role.
func (cl *Client) StopDaemon(state model.SyncState) error {
	var w attrWriter
	n := w.nest(cmdAttrDaemon)
	w.u32(daemonAttrState, uint32(state))
	w.end(n)
	if err := cl.do(cmdDelDaemon, false, w.b, nil); err != nil {
		return fmt.Errorf("stop %s sync daemon: %w", state, describeDaemon(err))
	}
	return nil
}

// Daemons lists the running sync daemons (at most one master, one backup).
func (cl *Client) Daemons() ([]model.SyncDaemon, error) {
	var out []model.SyncDaemon
	err := cl.do(cmdGetDaemon, true, nil, func(b []byte) error {
		top := attrReader{b: b}
		for top.next() {
			if top.typ != cmdAttrDaemon {
				continue
			}
			var d model.SyncDaemon
			r := top.nested()
			for r.next() {
				switch r.typ {
				case daemonAttrState:
					d.State = model.SyncState(r.u32())
				case daemonAttrMcastIfn:
					d.Interface = r.str()
				case daemonAttrSyncID:
					d.SyncID = uint8(r.u32())
				case daemonAttrSyncMaxLen:
					d.MaxLen = r.u16()
				case daemonAttrMcastGroup:
					if len(r.val) == 4 {
						d.Group = netip.AddrFrom4([4]byte(r.val))
					}
				case daemonAttrMcastGrp6:
					if len(r.val) == 16 {
						d.Group = netip.AddrFrom16([16]byte(r.val))
					}
				case daemonAttrMcastPort:
					d.Port = r.u16()
				case daemonAttrMcastTTL:
					d.TTL = r.u8()
				}
			}
			if r.err != nil {
				return r.err
			}
			out = append(out, d)
		}
		return top.err
	})
	if err != nil {
		return nil, fmt.Errorf("list sync daemons: %w", err)
	}
	return out, nil
}

func describeDaemon(err error) error {
	ke, ok := err.(*kernelError)
	if !ok || ke.Text != "" {
		return err
	}
	switch ke.Errno {
	case unix.EEXIST:
		return &kernelError{Errno: ke.Errno, Text: "a sync daemon with this role is already running"}
	case unix.ESRCH:
		return &kernelError{Errno: ke.Errno, Text: "no sync daemon with this role is running"}
	case unix.ENODEV:
		return &kernelError{Errno: ke.Errno, Text: "no such network interface"}
	}
	return err
}
