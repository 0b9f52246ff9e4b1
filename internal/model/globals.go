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
