package model

import (
	"net/netip"
	"time"
)

// VRRP is a VRRPv3 virtual router (RFC 5798) that the daemon runs: the
// directors of a pair share its virtual addresses, held by the master.
type VRRP struct {
	Name      string
	Interface string
	VRID      uint8
	// Priority is 1-254, or 255 for the owner of the addresses.
	Priority       uint8
	AdvertInterval time.Duration // 10 ms to 40.95 s, in steps of 10 ms
	// Addresses are the virtual addresses, with their prefix on the
	// interface (/32, /128 when not given); all of one family.
	Addresses    []netip.Prefix
	Preempt      bool
	PreemptDelay time.Duration
	Accept       bool
	// Peers are unicast peers (keepalived's unicast_peer); none: the
	// multicast group.
	Peers []netip.Addr
	// TrackServices and TrackInterfaces lower the priority by TrackWeight
	// for each one failing (a service without its quorum, an interface
	// down); TrackWeight 0 gives the mastership up while any fails.
	TrackServices   []ServiceKey
	TrackInterfaces []string
	TrackWeight     int
	// Sync is a connection-sync daemon that follows the role: master
	// while master, backup otherwise (its State is ignored); nil: none.
	Sync *SyncDaemon
	// NotifyMaster, NotifyBackup and NotifyFault run when the router
	// becomes master, backup, or gives the mastership up (keepalived's
	// notify_master, notify_backup, notify_fault).
	NotifyMaster, NotifyBackup, NotifyFault Hook
	Where                                   string
}

// Family is the family of the virtual router's addresses.
func (v *VRRP) Family() Family {
	if len(v.Addresses) == 0 {
		return IPv4
	}
	return FamilyOf(v.Addresses[0].Addr())
}
