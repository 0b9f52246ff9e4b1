package ipvs

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"
)

// SyncState is the role of a connection-sync daemon.
type SyncState uint32

// Sync daemon roles (IP_VS_STATE_*).
const (
	SyncMaster SyncState = 1
	SyncBackup SyncState = 2
)

// String returns "master" or "backup".
func (s SyncState) String() string {
	switch s {
	case SyncMaster:
		return "master"
	case SyncBackup:
		return "backup"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}

// ParseSyncState accepts "master" or "backup".
func ParseSyncState(s string) (SyncState, error) {
	switch strings.ToLower(s) {
	case "master":
		return SyncMaster, nil
	case "backup":
		return SyncBackup, nil
	}
	return 0, fmt.Errorf("unknown sync daemon state %q (want master or backup)", s)
}

// Daemon is a connection-synchronisation daemon: a master multicasts
// connection state, a backup receives it.
type Daemon struct {
	State     SyncState  `json:"state"`
	Interface string     `json:"interface"`
	SyncID    uint8      `json:"syncid"`
	MaxLen    uint16     `json:"maxlen,omitempty"` // UDP payload size; 0 = kernel default
	Group     netip.Addr `json:"group,omitzero"`   // multicast group; zero = 224.0.0.81
	Port      uint16     `json:"port,omitempty"`   // multicast port; 0 = 8848
	TTL       uint8      `json:"ttl,omitempty"`    // multicast TTL; 0 = 1
}

// StartDaemon starts a sync daemon.
func (cl *Client) StartDaemon(d Daemon) error {
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
func (cl *Client) StopDaemon(state SyncState) error {
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
func (cl *Client) Daemons() ([]Daemon, error) {
	var out []Daemon
	err := cl.do(cmdGetDaemon, true, nil, func(b []byte) error {
		top := attrReader{b: b}
		for top.next() {
			if top.typ != cmdAttrDaemon {
				continue
			}
			var d Daemon
			r := top.nested()
			for r.next() {
				switch r.typ {
				case daemonAttrState:
					d.State = SyncState(r.u32())
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
