package keepalived

import (
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// keepalived 2.2.7's defaults for what a configuration leaves out, in one
// place for the mapping to luvs (keepalived.conf(5) and its messages, e.g.
// "no scheduler set, setting default 'wlc'").
const (
	DefaultScheduler            = "wlc"            // lvs_sched
	DefaultPersistenceTimeout   = 360              // seconds, for persistence_timeout without a value
	DefaultDelayLoop            = 60 * time.Second // delay_loop
	DefaultConnectTimeout       = 5 * time.Second  // connect_timeout
	DefaultRetry                = 1                // retry, all checkers but DNS_CHECK and MISC_CHECK
	DefaultRetryDNS             = 3                // retry of DNS_CHECK
	DefaultRetryMisc            = 0                // retry of MISC_CHECK
	DefaultDelayBeforeRetryHTTP = 3 * time.Second  // delay_before_retry of HTTP_GET and SSL_GET
	DefaultDelayBeforeRetry     = 1 * time.Second  // delay_before_retry of the others (DNS_CHECK: delay_loop)
	DefaultWeight               = 1                // weight of a real server
	DefaultQuorum               = 1                // quorum: minimum total weight of live servers
	DefaultHysteresis           = 0                // hysteresis
	DefaultStatusMin            = 200              // status_code default: 200-299
	DefaultStatusMax            = 299
	DefaultDNSType              = "SOA"        // DNS_CHECK type
	DefaultDNSName              = "."          // DNS_CHECK name
	DefaultMaxReplyLength       = 255          // UDP_CHECK max_reply_length
	DefaultSyncPort             = 8848         // lvs_sync_daemon port
	DefaultSyncGroup            = "224.0.0.81" // lvs_sync_daemon group
	DefaultMiscDynamicOffset    = 2            // MISC_CHECK misc_dynamic: weight = exit status - 2
	MaxWeight                   = 2147483647   // the largest weight keepalived accepts
)

// DefaultSMTPHelo is SMTP_CHECK's helo_name when it is not set
// (SMTP_DEFAULT_HELO in keepalived's check_smtp.h).
const DefaultSMTPHelo = "smtpchecker.keepalived.org"

// DefaultMethod is the forwarding method when lvs_method is not set: NAT.
// keepalived 2.2.7 also warns that a virtual server without protocol
// defaults to UDP ("no protocol set - defaulting to UDP"); luvs's mapping
// should ask for it to be explicit rather than follow that.
var DefaultMethod = Method{Kind: model.Masquerade}
