package model

import (
	"fmt"
	"net/netip"
	"strings"
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

// SyncDaemon is a connection-synchronisation daemon: a master multicasts
// connection state, a backup receives it.
type SyncDaemon struct {
	State     SyncState  `json:"state"`
	Interface string     `json:"interface"`
	SyncID    uint8      `json:"syncid"`
	MaxLen    uint16     `json:"maxlen,omitempty"` // UDP payload size; 0 = kernel default
	Group     netip.Addr `json:"group,omitzero"`   // multicast group; zero = 224.0.0.81
	Port      uint16     `json:"port,omitempty"`   // multicast port; 0 = 8848
	TTL       uint8      `json:"ttl,omitempty"`    // multicast TTL; 0 = 1
}

// Timeouts are the connection timeouts in seconds (zero leaves one unchanged on Set).
type Timeouts struct {
	TCP    uint32 `json:"tcp"`
	TCPFin uint32 `json:"tcp_fin"`
	UDP    uint32 `json:"udp"`
}

// MaxTimeout is the longest connection timeout accepted, in seconds (24
// days: the kernel keeps timeouts in jiffies in an int).
const MaxTimeout = 86400 * 24

// String lists the timeouts that are set: "tcp 900s, udp 300s".
func (t Timeouts) String() string {
	var parts []string
	for _, f := range []struct {
		name string
		v    uint32
	}{{"tcp", t.TCP}, {"tcp_fin", t.TCPFin}, {"udp", t.UDP}} {
		if f.v != 0 {
			parts = append(parts, fmt.Sprintf("%s %ds", f.name, f.v))
		}
	}
	return strings.Join(parts, ", ")
}

// String describes the daemon with the settings that are set:
// "master sync daemon on eth0 (syncid 7, port 8848)".
func (d SyncDaemon) String() string {
	s := fmt.Sprintf("%s sync daemon on %s (syncid %d", d.State, d.Interface, d.SyncID)
	if d.MaxLen != 0 {
		s += fmt.Sprintf(", maxlen %d", d.MaxLen)
	}
	if d.Group.IsValid() {
		s += ", group " + d.Group.String()
	}
	if d.Port != 0 {
		s += fmt.Sprintf(", port %d", d.Port)
	}
	if d.TTL != 0 {
		s += fmt.Sprintf(", ttl %d", d.TTL)
	}
	return s + ")"
}
