// Package status is what the daemon reports about itself: the types of
// `luvs status --json` and /api/v1/status, and their renderings for people
// (a text table for the terminal, an HTML page for the browser).
package status

import "time"

// Status is the daemon's view: every virtual service and real server, with
// the kernel's counters next to the configuration's intent.
type Status struct {
	Version     string        `json:"version"`
	Config      string        `json:"config"`
	PID         int           `json:"pid"`
	StateDir    string        `json:"state_dir"`
	Reconciles  int           `json:"reconciles"`
	OpsApplied  int           `json:"ops_applied"`
	OpsFailed   int           `json:"ops_failed"`
	Repairs     int           `json:"repairs"`
	TableReads  int           `json:"kernel_table_reads"`
	LastApplied string        `json:"last_applied,omitempty"`
	LastReload  *ReloadStatus `json:"last_reload,omitempty"`
	// KernelError is set when the kernel's counters could not be read.
	KernelError string   `json:"kernel_error,omitempty"`
	Overrides   []string `json:"overrides"`
	// BGP is the BGP speaker; nil without a bgp declaration.
	BGP *BGPStatus `json:"bgp,omitempty"`
	// VRRP are the VRRP virtual routers.
	VRRP     []VRRPStatus    `json:"vrrp,omitempty"`
	Services []ServiceStatus `json:"services"`
}

// BGPStatus is the BGP speaker: its peers and the prefixes the services
// announce.
type BGPStatus struct {
	ASN           uint32               `json:"asn"`
	RouterID      string               `json:"router_id"`
	Peers         []PeerStatus         `json:"peers"`
	Announcements []AnnouncementStatus `json:"announcements"`
}

// VRRPStatus is one VRRP virtual router.
type VRRPStatus struct {
	Name      string   `json:"name"`
	Interface string   `json:"interface"`
	VRID      uint8    `json:"virtual_router_id"`
	State     string   `json:"state"`    // initialize, backup, master, fault
	Priority  uint8    `json:"priority"` // in effect, after tracking
	Base      uint8    `json:"configured_priority"`
	Master    string   `json:"master,omitempty"` // the master's address, if known
	Reason    string   `json:"reason,omitempty"` // of the last change
	Addresses []string `json:"virtual_addresses"`
}

// PeerStatus is one BGP session.
type PeerStatus struct {
	Address    string `json:"address"`
	ASN        uint32 `json:"asn"`
	State      string `json:"state"` // idle, connect, active, opensent, openconfirm, established
	Since      string `json:"since,omitempty"`
	Reason     string `json:"reason,omitempty"` // why it last left established
	Advertised int    `json:"advertised"`
	BFD        string `json:"bfd,omitempty"` // the BFD session's state
}

// AnnouncementStatus is one prefix services announce.
type AnnouncementStatus struct {
	Prefix string `json:"prefix"`
	// Announced: the services on it serve and the speaker took it.
	Announced bool     `json:"announced"`
	Services  []string `json:"services"`
	Reason    string   `json:"reason,omitempty"` // why it is withdrawn
}

// ReloadStatus is the outcome of the last reload.
type ReloadStatus struct {
	At      string `json:"at"`
	Trigger string `json:"trigger"`
	Error   string `json:"error,omitempty"`
}

// Service states.
const (
	ServiceNormal     = "normal"
	ServiceQuorumLost = "quorum_lost"
	ServiceSorry      = "sorry_server" // quorum lost, its sorry server standing in
)

// ServiceStatus is a virtual service: its state (Service*), its kernel
// counters and its real servers.
type ServiceStatus struct {
	Service     string         `json:"service"`
	Name        string         `json:"name,omitempty"`
	State       string         `json:"state"`
	Scheduler   string         `json:"scheduler,omitempty"`
	Active      int            `json:"active_connections"`
	Inactive    int            `json:"inactive_connections"`
	Connections uint64         `json:"connections_total"`
	Rates       Rates          `json:"rates"`
	Servers     []ServerStatus `json:"servers"`
}

// Rates are the kernel's estimates, per second, over its last few
// seconds.
type Rates struct {
	Connections uint64 `json:"connections"`
	InPackets   uint64 `json:"in_packets"`
	OutPackets  uint64 `json:"out_packets"`
	InBytes     uint64 `json:"in_bytes"`
	OutBytes    uint64 `json:"out_bytes"`
}

// ServerStatus is a real server: its weight in the file and in the kernel,
// its state (engine.State*), why a check failed, the overrides on it, its
// connections and its checks.
type ServerStatus struct {
	Server string `json:"server"`
	Name   string `json:"name,omitempty"`
	// Weight is the configuration file's (-1: not in it); KernelWeight the
	// table's (-1: absent).
	Weight       int      `json:"weight"`
	KernelWeight int      `json:"kernel_weight"`
	State        string   `json:"state"`
	Up           bool     `json:"up"`
	Reason       string   `json:"reason,omitempty"`
	CheckWeight  *int     `json:"check_weight,omitempty"`
	Overrides    []string `json:"overrides,omitempty"`
	// Active and Inactive are the kernel's connection counts; Rates its
	// estimates.
	Active   int   `json:"active_connections"`
	Inactive int   `json:"inactive_connections"`
	Rates    Rates `json:"rates"`
	// DrainDeadline and Connections are set while the server leaves the
	// table; SlowStartSince while its weight ramps.
	DrainDeadline  string        `json:"drain_deadline,omitempty"`
	Connections    *int          `json:"connections,omitempty"`
	SlowStartSince string        `json:"slow_start_since,omitempty"`
	Checks         []CheckStatus `json:"checks,omitempty"`
}

// CheckStatus is one health check of a server and its last probe.
type CheckStatus struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// State is the check's verdict after rise and fall (up, down, unknown).
	State string `json:"state"`
	// LastAt is empty until the first probe finished.
	LastAt      string  `json:"last_at,omitempty"`
	LastOK      bool    `json:"last_ok"`
	LastMessage string  `json:"last_message,omitempty"`
	LastTookMS  float64 `json:"last_took_ms"`
}

// Stamp renders a time as the status does (RFC 3339, empty for zero).
func Stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
