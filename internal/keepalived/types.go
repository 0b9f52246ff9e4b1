package keepalived

import (
	"net/netip"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// Setting is a value a keyword set; Set is false when the keyword is absent
// (then the keepalived default in defaults.go, or the enclosing level's
// value, applies). Pos is the keyword's line.
type Setting[T any] struct {
	Value T
	Set   bool
	Pos   Pos
}

// Config is the LVS side of a keepalived configuration, typed, plus the
// VRRP and global parts kept as they were (Skipped).
type Config struct {
	Files          []string // the files read, the main one first
	Global         GlobalDefs
	Groups         []*VirtualServerGroup
	VirtualServers []*VirtualServer
	SSL            *SSLOptions // the top-level SSL block for SSL_GET, if any
	// Skipped are the top-level statements that are not LVS (vrrp_instance,
	// global_defs without its LVS keys, static_routes, ...), in file order.
	Skipped []*RawBlock
	// Comments are all the comments of the files, in order; the typed
	// elements also carry the ones just before them.
	Comments []Comment
}

// Group returns the virtual_server_group called name, or nil.
func (c *Config) Group(name string) *VirtualServerGroup {
	for _, g := range c.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// RawBlock is a statement kept untyped: its parsed form (Node, comments
// included) and its source text.
type RawBlock struct {
	Pos     Pos    // the keyword's line
	End     Pos    // the closing brace's line (Pos for a one-line statement)
	Keyword string // e.g. vrrp_instance
	Name    string // the first argument (VI_1), or ""
	// Text is the source lines Pos..End as written (before parameter
	// substitution); "" when the statement spans files.
	Text string
	Node *Node
}

// GlobalDefs holds the LVS keys of global_defs, typed. The other keys stay
// in the global_defs RawBlock of Config.Skipped.
type GlobalDefs struct {
	Pos                  Pos // of the (first) global_defs block; zero if none
	SyncDaemon           *SyncDaemon
	Timeouts             *Timeouts
	ScriptUser           *RunAs // script_user USER [GROUP]
	EnableScriptSecurity Setting[bool]
	LVSFlush             Setting[bool]
	// LVSFlushOnStop is set by lvs_flush_on_stop; Value is "" or "VS".
	LVSFlushOnStop        Setting[string]
	LVSNotifyFifo         *Script // lvs_notify_fifo FIFO [USER [GROUP]]
	LVSNotifyFifoScript   *Script
	CheckerLogAllFailures Setting[bool]
	NetNamespaceIPVS      Setting[string] // net_namespace_ipvs [NAME]
}

// SyncDaemon is lvs_sync_daemon IFACE [[inst] VRRP_INSTANCE] [id N] [maxlen N]
// [port N] [ttl N] [group ADDR].
type SyncDaemon struct {
	Pos       Pos
	Interface string
	Instance  string // the VRRP instance whose state the daemon follows, or ""
	ID        Setting[uint8]
	MaxLen    Setting[uint16]
	Port      Setting[uint16]
	TTL       Setting[uint8]
	Group     Setting[netip.Addr]
}

// Timeouts is lvs_timeouts [tcp S] [tcpfin S] [udp S] (whole seconds).
type Timeouts struct {
	Pos              Pos
	TCP, TCPFin, UDP Setting[uint32]
}

// RunAs is a user and optional group.
type RunAs struct {
	Pos   Pos
	User  string
	Group string
}

// Script is a command (one word, quoted if it has arguments) with the user
// and group to run it as.
type Script struct {
	Pos     Pos
	Command string
	User    string
	Group   string
}

// SSLOptions is the top-level SSL block.
type SSLOptions struct {
	Pos                            Pos
	Password, CA, Certificate, Key Setting[string]
}

// VirtualServerGroup is virtual_server_group NAME { ... }.
type VirtualServerGroup struct {
	Pos, End Pos
	Comments []Comment
	Name     string
	Entries  []GroupEntry
}

// GroupEntry is one line of a virtual_server_group: an address or address
// range with an optional port, or a firewall mark.
type GroupEntry struct {
	Pos   Pos
	First netip.Addr // the range First..Last (equal for one address); invalid for a fwmark
	Last  netip.Addr
	Port  uint16 // 0 when not given
	// FWMark is the mark of a `fwmark N [inet|inet6]` entry, with its
	// family (0 when not given).
	FWMark uint32
	Family model.Family
}

// Timing is the checker timing a virtual server, real server or checker
// may set. keepalived.conf(5): "the virtual server setting is the default
// for real servers, and the real server setting is the default for
// checkers"; keepalived's check_data.c copies a virtual server's alpha,
// inhibit_on_failure, retry, connect_timeout, delay_loop, warmup and
// delay_before_retry into each real server that does not set them, and a
// checker takes its real server's. Two exceptions matter for the mapping:
// MISC_CHECK has no connect_timeout (misc_timeout instead), and the retry
// and delay_before_retry defaults depend on the checker kind (defaults.go:
// DNS_CHECK retries 3 times and waits delay_loop, MISC_CHECK 0 times,
// HTTP_GET/SSL_GET wait 3 s). The parser records each level as written
// (Setting.Set false when absent) and resolves nothing.
type Timing struct {
	ConnectTimeout   Setting[time.Duration]
	Retry            Setting[int] // retry, or HTTP_GET/SSL_GET's deprecated nb_get_retry
	DelayBeforeRetry Setting[time.Duration]
	Warmup           Setting[time.Duration]
	DelayLoop        Setting[time.Duration]
	Alpha            Setting[bool]
}

// Method is a forwarding method (lvs_method / lb_kind): NAT, DR or TUN with
// its tunnel type, GUE port and checksum option.
type Method struct {
	Kind       model.ForwardMethod
	Tunnel     model.TunnelType
	TunnelPort uint16 // GUE only
	// TunnelFlags holds model.TunnelCsum and model.TunnelRemCsum; NoCsum
	// is true for an explicit nocsum.
	TunnelFlags uint16
	NoCsum      bool
}

// VirtualServer is virtual_server ADDR [PORT] | fwmark N | group NAME { ... }.
// Exactly one of Addr (valid), FWMark (non-zero) and Group (non-empty) is set.
type VirtualServer struct {
	Pos, End Pos
	Comments []Comment
	Addr     netip.AddrPort // the port is 0 when omitted (persistent services only)
	FWMark   uint32
	Group    string

	Protocol    Setting[model.Protocol]
	Scheduler   Setting[string] // lvs_sched / lb_algo, one of model.Schedulers
	SchedFlags  Setting[uint32] // flag-1..3, sh-port, mh-fallback, ...: model.SchedFlag1..3
	OnePacket   Setting[bool]   // ops
	Method      Setting[Method]
	IPFamily    Setting[model.Family]
	Persistence Setting[uint32] // persistence_timeout, seconds (DefaultPersistenceTimeout when given without a value)
	// Granularity is persistence_granularity as a prefix length (an IPv4
	// netmask like 255.255.255.0 is 24; IPv6 takes a length).
	Granularity       Setting[int]
	PersistenceEngine Setting[string]
	HASuspend         Setting[bool]
	Virtualhost       Setting[string]
	SNMPName          Setting[string]
	SMTPAlert         Setting[bool]
	Omega             Setting[bool]
	Quorum            Setting[uint32]
	Hysteresis        Setting[uint32]
	QuorumUp          *Script
	QuorumDown        *Script
	InhibitOnFailure  Setting[bool]
	Timing

	SorryServer        Setting[netip.AddrPort]
	SorryServerInhibit Setting[bool]
	SorryServerMethod  Setting[Method]

	RealServers []*RealServer
	seen        map[netip.AddrPort]*RealServer
}

// RealServer is real_server ADDR [PORT] { ... }.
type RealServer struct {
	Pos, End         Pos
	Comments         []Comment
	Addr             netip.AddrPort // the port is 0 when omitted
	Weight           Setting[int]
	Method           Setting[Method]
	NotifyUp         *Script
	NotifyDown       *Script
	UThreshold       Setting[uint32]
	LThreshold       Setting[uint32]
	SMTPAlert        Setting[bool]
	Virtualhost      Setting[string]
	SNMPName         Setting[string]
	InhibitOnFailure Setting[bool]
	Timing
	Checkers []Checker
}

// Checker is one health checker of a real server: *HTTPCheck (HTTP_GET and
// SSL_GET), *TCPCheck, *UDPCheck, *DNSCheck, *MiscCheck, *SMTPCheck,
// *FileCheck, *PingCheck or *BFDCheck.
type Checker interface {
	Base() *CheckerBase
}

// CheckerBase holds what all checkers have; which keys a kind accepts is in
// the keyword tables (MISC_CHECK has no connection options and no
// connect_timeout; FILE_CHECK and BFD_CHECK have none of them).
type CheckerBase struct {
	Pos, End       Pos
	Comments       []Comment
	Type           string // HTTP_GET, SSL_GET, TCP_CHECK, ...
	ConnectIP      Setting[netip.Addr]
	ConnectPort    Setting[uint16]
	BindTo         Setting[netip.Addr]
	BindIf         Setting[string]
	BindPort       Setting[uint16]
	FWMark         Setting[uint32]
	LogAllFailures Setting[bool]
	Timing
}

// Base returns the common part.
func (b *CheckerBase) Base() *CheckerBase { return b }

// HTTPCheck is HTTP_GET, or SSL_GET when SSL is true.
type HTTPCheck struct {
	CheckerBase
	SSL          bool
	URLs         []*URL
	HTTPProtocol Setting[string] // 1.0, 1.0C or 1.1
	FastRecovery Setting[bool]
	EnableSNI    Setting[bool] // SSL_GET only
	Virtualhost  Setting[string]
}

// URL is a url block of HTTP_GET/SSL_GET.
type URL struct {
	Pos, End       Pos
	Comments       []Comment
	Path           Setting[string]
	Digest         Setting[string]
	StatusCodes    []StatusRange // empty: DefaultStatusMin..DefaultStatusMax
	Virtualhost    Setting[string]
	Regex          Setting[string]
	RegexNoMatch   Setting[bool]
	RegexOptions   []string
	RegexStack     Setting[[2]uint32]
	RegexMinOffset Setting[uint32]
	RegexMaxOffset Setting[uint32]
}

// StatusRange is an HTTP status code range (Min == Max for one code).
type StatusRange struct{ Min, Max int }

// TCPCheck is TCP_CHECK.
type TCPCheck struct{ CheckerBase }

// PingCheck is PING_CHECK.
type PingCheck struct{ CheckerBase }

// SMTPCheck is SMTP_CHECK.
type SMTPCheck struct {
	CheckerBase
	HeloName Setting[string]
}

// DNSCheck is DNS_CHECK.
type DNSCheck struct {
	CheckerBase
	QueryType Setting[string] // type: A, NS, CNAME, SOA, MX, TXT or AAAA
	Name      Setting[string]
}

// UDPCheck is UDP_CHECK.
type UDPCheck struct {
	CheckerBase
	Payload Setting[[]byte]
	// RequireReply is set by require_reply; Value is the expected data
	// (nil: any reply), with XMask marking the ignored nibbles (x or X).
	RequireReply   Setting[[]byte]
	XMask          []byte
	MinReplyLength Setting[int]
	MaxReplyLength Setting[int]
}

// MiscCheck is MISC_CHECK.
type MiscCheck struct {
	CheckerBase
	Path    Setting[string] // misc_path: the command line
	Timeout Setting[time.Duration]
	Dynamic Setting[bool]
	User    *RunAs
}

// FileCheck is FILE_CHECK.
type FileCheck struct {
	CheckerBase
	TrackFile Setting[string]
	Dynamic   Setting[bool]
	Weight    Setting[int]
	Reverse   bool
}

// BFDCheck is BFD_CHECK.
type BFDCheck struct {
	CheckerBase
	Name Setting[string]
}
