package model

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is a whole luvs configuration: the virtual services to run, with
// their real servers, health checks and failure policy. State() gives the
// kernel table it asks for when every real server is healthy.
type Config struct {
	Services []ServiceConfig
	// Timeouts are the connection timeouts to set; nil leaves the kernel's.
	Timeouts *Timeouts
	// SyncDaemons are the connection-sync daemons to run (at most one
	// master and one backup).
	SyncDaemons []SyncDaemon
	// Scripts is who runs the configured programs (exec checks without a
	// user of their own, notify and quorum programs); nil: luvs's user
	// (keepalived's script_user).
	Scripts *ScriptUser
	// BGP announces the virtual addresses of the services that ask for it
	// (Announce); nil: no BGP.
	BGP *BGP
	// Sysctls are kernel settings to make, in order.
	Sysctls []Sysctl
	// VRRP are the VRRPv3 virtual routers the daemon runs.
	VRRP []VRRP
}

// ScriptUser is a user and group to run programs as (names or numbers;
// an empty Group is the user's primary group).
type ScriptUser struct {
	User, Group string
}

// OnFail is what happens to a real server whose checks fail.
type OnFail string

// Failure policies.
const (
	// Drain sets the weight to 0: no new connections, existing ones finish.
	Drain OnFail = "drain"
	// Remove deletes the real server from the service.
	Remove OnFail = "remove"
)

// ServiceConfig is a virtual service as configured.
type ServiceConfig struct {
	Service
	Name    string // optional label for logs and metrics
	Servers []ServerConfig
	// Quorum is the minimum total weight of healthy servers; below it the
	// sorry server (if any) replaces them. Hysteresis delays the switch back.
	Quorum     int
	Hysteresis int
	// QuorumUp and QuorumDown run when the service regains or loses its
	// quorum.
	QuorumUp, QuorumDown Hook
	// Sorry is installed while the quorum is lost; nil for none.
	Sorry *Dest
	// Script is a free-form health check over the whole service; nil for none.
	Script *ScriptCheck
	// Announce has the service's address announced over BGP while the
	// service holds its quorum; nil: not announced.
	Announce *Announce
	// ECMP marks a service run by several directors behind ECMP routing:
	// mh scheduling (mh-fallback, mh-port), direct routing or tunnels, and
	// net.ipv4.vs.sloppy_tcp.
	ECMP bool
	// Where is the source position of the declaration ("web.lua:12:1").
	Where string
}

// DefaultDrainTimeout is how long a leaving server's connections may take
// to finish when the configuration does not say (drain_timeout).
const DefaultDrainTimeout = 30 * time.Second

// ServerConfig is a real server as configured.
type ServerConfig struct {
	Dest
	Name   string
	Checks []Check
	OnFail OnFail
	// Alpha starts the server down until its checks first pass
	// (keepalived's alpha), instead of up.
	Alpha bool
	// DrainTimeout bounds how long a server leaving the table (dropped by a
	// reload or an operator, or failed with OnFail Remove) stays at weight 0
	// while its connections finish before it is deleted (0: deleted at once).
	DrainTimeout time.Duration
	// SlowStart is how long a server that comes up or is added takes to
	// ramp its weight from 1 to its configured weight (0: no ramp).
	SlowStart time.Duration
	// NotifyUp and NotifyDown run when the server's checks bring it up or
	// down.
	NotifyUp, NotifyDown Hook
	Where                string
}

// Hook is what runs on a health event (notify_up, notify_down, quorum_up,
// quorum_down): a program, or a function of the configuration. The zero
// Hook runs nothing.
type Hook struct {
	// Argv is a program (argv, no shell); nil for a function.
	Argv []string
	// Func names a function of the configuration, which the loader that
	// read it resolves (luaconf.Result.HookFunc); empty for a program. The
	// name is where the function is defined, so two loads of the same file
	// give the same names: a reload compares hooks by name (Equal).
	Func string
	// Where is where the function is defined ("web.lua:12"), for messages.
	Where string
}

// IsZero reports whether h runs nothing.
func (h Hook) IsZero() bool { return h.Argv == nil && h.Func == "" }

// Equal reports whether h and o run the same program or name the same
// function.
func (h Hook) Equal(o Hook) bool {
	return slices.Equal(h.Argv, o.Argv) && (h.Argv == nil) == (o.Argv == nil) && h.Func == o.Func
}

// String shows the hook as the configuration writes it: a program as its
// argv list, { "/usr/local/bin/notify", "down" }, a function as
// lua function (web.lua:12).
func (h Hook) String() string {
	switch {
	case h.Func != "":
		return "lua function (" + h.Where + ")"
	case h.Argv != nil:
		q := make([]string, len(h.Argv))
		for i, a := range h.Argv {
			q[i] = strconv.Quote(a)
		}
		return "{ " + strings.Join(q, ", ") + " }"
	}
	return "none"
}

// CheckKind names a built-in health checker.
type CheckKind string

// Built-in checkers.
const (
	CheckHTTP  CheckKind = "http"
	CheckHTTPS CheckKind = "https"
	CheckTCP   CheckKind = "tcp"
	CheckUDP   CheckKind = "udp"
	CheckDNS   CheckKind = "dns"
	CheckExec  CheckKind = "exec"
	CheckPing  CheckKind = "ping"
	CheckSMTP  CheckKind = "smtp"
	CheckFile  CheckKind = "file"
)

// Check defaults.
const (
	DefaultInterval = 5 * time.Second
	DefaultTimeout  = 2 * time.Second
	DefaultRise     = 2
	DefaultFall     = 3
)

// Check is one health check of a real server. A server is up when all of
// its checks pass.
type Check struct {
	Kind     CheckKind
	Interval time.Duration
	Timeout  time.Duration
	// Rise successes in a row bring a server up, Fall failures take it down.
	Rise, Fall int
	// RetryDelay is the pause before retrying a failed check within one round
	// (keepalived's delay_before_retry); 0 waits for the next interval.
	RetryDelay time.Duration
	// Warmup bounds the random wait before the first check (zero: up to
	// the interval, at most 1 s).
	Warmup time.Duration
	// Addr and Port override where the check connects (zero: the real server's).
	Addr netip.Addr
	Port uint16
	// Source is the local address network checks connect from (keepalived's
	// bindto); zero: the kernel's choice.
	Source netip.Addr

	HTTP *HTTPCheck // http and https
	UDP  *UDPCheck
	DNS  *DNSCheck
	Exec *ExecCheck
	SMTP *SMTPCheck
	File *FileCheck

	Where string
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Lo, Hi int }

// HTTPCheck are the settings of an http or https check.
type HTTPCheck struct {
	Method  string
	Path    string
	Host    string            // Host header; empty: the target address
	Headers map[string]string // extra request headers
	Status  []StatusRange     // accepted codes; default 200-299
	Body    string            // regular expression the body must match; empty: any
	Digest  string            // hex MD5 of the body (keepalived's digest); empty: any
	SNI     string            // TLS server name (https)
	Verify  bool              // verify the TLS certificate (https)
}

// UDPCheck sends Payload and expects a reply (containing Expect when set);
// an ICMP port unreachable means down.
type UDPCheck struct {
	Payload []byte
	Expect  []byte
}

// DNSCheck queries Name/Type and expects Rcode (and an answer containing
// Answer when set).
type DNSCheck struct {
	Name   string
	Type   string
	Rcode  string
	Answer string
}

// ExecCheck runs Argv (never through a shell) with the target in the
// environment. Exit 0 is up, 1 down; with DynamicWeight, 2..255 is up with
// weight code-2 (keepalived's MISC_CHECK misc_dynamic).
type ExecCheck struct {
	Argv          []string
	DynamicWeight bool
	// User and Group run the program with that identity instead of luvs's
	// (keepalived's MISC_CHECK user); empty: luvs's own.
	User, Group string
}

// SMTPCheck talks to a mail server: its 220 greeting, HELO Helo answered
// with 250, then QUIT.
type SMTPCheck struct {
	Helo string
}

// FileCheck reads a number from Path: 0 is up, anything else down; with
// DynamicWeight the number is the server's weight (keepalived's
// FILE_CHECK, which an operator or a script writes).
type FileCheck struct {
	Path          string
	DynamicWeight bool
}

// ScriptCheck is a free-form health check (a Lua function in the config).
// Fn is the loader's handle to the function; the model does not look inside.
type ScriptCheck struct {
	Interval time.Duration
	Timeout  time.Duration
	Fn       any
	Where    string
}

// State returns the kernel table this configuration asks for when every
// real server is healthy (sorry servers are not included).
func (c *Config) State() *State {
	st := &State{Services: make([]VirtualServer, len(c.Services))}
	for i, s := range c.Services {
		v := VirtualServer{Service: s.Service, Dests: make([]Dest, len(s.Servers))}
		for j, rs := range s.Servers {
			v.Dests[j] = rs.Dest
		}
		st.Services[i] = v
	}
	return st
}
