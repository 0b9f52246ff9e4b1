package keepalived

import (
	"maps"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/luvs-lb/luvs/internal/model"
)

// The LVS keywords of keepalived 2.2.7 (keepalived.conf(5), "LVS
// CONFIGURATION"), one table per context.

const maxInt32 = math.MaxInt32

var timingKeys = table[*Timing]{
	"connect_timeout":    {1, 1, "SECONDS", noBlock, func(a *args, t *Timing) { v, ok := a.timer(0); set(a, &t.ConnectTimeout, v, ok) }},
	"retry":              {1, 1, "INTEGER", noBlock, func(a *args, t *Timing) { v, ok := a.integer(0, 0, maxInt32); set(a, &t.Retry, int(v), ok) }},
	"delay_before_retry": {1, 1, "SECONDS", noBlock, func(a *args, t *Timing) { v, ok := a.timer(0); set(a, &t.DelayBeforeRetry, v, ok) }},
	"warmup":             {1, 1, "SECONDS", noBlock, func(a *args, t *Timing) { v, ok := a.timer(0); set(a, &t.Warmup, v, ok) }},
	"delay_loop":         {1, 1, "SECONDS", noBlock, func(a *args, t *Timing) { v, ok := a.timer(0); set(a, &t.DelayLoop, v, ok) }},
	"alpha":              {0, 1, "[BOOL]", noBlock, func(a *args, t *Timing) { v, ok := a.boolean(0); set(a, &t.Alpha, v, ok) }},
}

// miscTimingKeys: MISC_CHECK has the timing keys but connect_timeout.
var miscTimingKeys = func() table[*Timing] {
	t := maps.Clone(timingKeys)
	delete(t, "connect_timeout")
	return t
}()

func schedFlag(bit uint32) entry[*VirtualServer] {
	return entry[*VirtualServer]{0, 0, "", noBlock, func(a *args, vs *VirtualServer) {
		if !vs.SchedFlags.Set {
			vs.SchedFlags = Setting[uint32]{Set: true, Pos: a.n.Pos}
		}
		vs.SchedFlags.Value |= bit
	}}
}

func sched(a *args, vs *VirtualServer) {
	s := a.str(0)
	if !model.KnownScheduler(s) {
		a.errf("unknown scheduler %q (want one of %s)", s, model.SchedulerNames())
		return
	}
	set(a, &vs.Scheduler, s, true)
}

func vsMethod(a *args, vs *VirtualServer) { m, ok := a.method(0); set(a, &vs.Method, m, ok) }

var virtualServerKeys = table[*VirtualServer]{
	"lvs_sched":          {1, 1, "rr|wrr|lc|wlc|lblc|sh|mh|dh|fo|ovf|lblcr|sed|nq|twos", noBlock, sched},
	"lb_algo":            {1, 1, "SCHEDULER", noBlock, sched},
	"flag-1":             schedFlag(model.SchedFlag1),
	"flag-2":             schedFlag(model.SchedFlag2),
	"flag-3":             schedFlag(model.SchedFlag3),
	"sh-fallback":        schedFlag(model.SchedFlag1),
	"sh-port":            schedFlag(model.SchedFlag2),
	"mh-fallback":        schedFlag(model.SchedFlag1),
	"mh-port":            schedFlag(model.SchedFlag2),
	"ops":                {0, 0, "", noBlock, func(a *args, vs *VirtualServer) { set(a, &vs.OnePacket, true, true) }},
	"lvs_method":         {1, 6, "NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]", noBlock, vsMethod},
	"lb_kind":            {1, 6, "NAT|DR|TUN", noBlock, vsMethod},
	"persistence_engine": {1, 1, "NAME", noBlock, func(a *args, vs *VirtualServer) { set(a, &vs.PersistenceEngine, a.str(0), true) }},
	"persistence_timeout": {0, 1, "[SECONDS]", noBlock, func(a *args, vs *VirtualServer) {
		v, ok := int64(DefaultPersistenceTimeout), true
		if a.len() > 0 {
			v, ok = a.integer(0, 1, maxInt32)
		}
		set(a, &vs.Persistence, uint32(v), ok)
	}},
	"persistence_granularity": {1, 1, "NETMASK|PREFIXLEN", noBlock, granularity},
	"protocol": {1, 1, "TCP|UDP|SCTP", noBlock, func(a *args, vs *VirtualServer) {
		p, err := model.ParseProtocol(a.str(0))
		if err != nil {
			a.errf("%v", err)
		}
		set(a, &vs.Protocol, p, err == nil)
	}},
	"ha_suspend":  {0, 0, "", noBlock, func(a *args, vs *VirtualServer) { set(a, &vs.HASuspend, true, true) }},
	"smtp_alert":  {0, 1, "[BOOL]", noBlock, func(a *args, vs *VirtualServer) { v, ok := a.boolean(0); set(a, &vs.SMTPAlert, v, ok) }},
	"virtualhost": {1, 1, "NAME", noBlock, func(a *args, vs *VirtualServer) { set(a, &vs.Virtualhost, a.str(0), true) }},
	"snmp_name":   {1, 1, "NAME", noBlock, func(a *args, vs *VirtualServer) { set(a, &vs.SNMPName, a.str(0), true) }},
	"omega":       {0, 0, "", noBlock, func(a *args, vs *VirtualServer) { set(a, &vs.Omega, true, true) }},
	"quorum": {1, 1, "INTEGER", noBlock, func(a *args, vs *VirtualServer) {
		v, ok := a.integer(0, 0, maxInt32)
		set(a, &vs.Quorum, uint32(v), ok)
	}},
	"hysteresis": {1, 1, "INTEGER", noBlock, func(a *args, vs *VirtualServer) {
		v, ok := a.integer(0, 0, maxInt32)
		set(a, &vs.Hysteresis, uint32(v), ok)
	}},
	"quorum_up": {1, 3, "SCRIPT [USER [GROUP]]", noBlock, func(a *args, vs *VirtualServer) {
		if fresh(a, vs.QuorumUp != nil) {
			vs.QuorumUp = a.script()
		}
	}},
	"quorum_down": {1, 3, "SCRIPT [USER [GROUP]]", noBlock, func(a *args, vs *VirtualServer) {
		if fresh(a, vs.QuorumDown != nil) {
			vs.QuorumDown = a.script()
		}
	}},
	"ip_family": {1, 1, "inet|inet6", noBlock, func(a *args, vs *VirtualServer) {
		switch a.str(0) {
		case "inet":
			set(a, &vs.IPFamily, model.IPv4, true)
		case "inet6":
			set(a, &vs.IPFamily, model.IPv6, true)
		default:
			a.errf("%q is not inet or inet6", a.str(0))
		}
	}},
	"sorry_server":            {1, 2, "ADDRESS [PORT]", noBlock, func(a *args, vs *VirtualServer) { v, ok := a.addrPort(0); set(a, &vs.SorryServer, v, ok) }},
	"sorry_server_inhibit":    {0, 1, "[BOOL]", noBlock, func(a *args, vs *VirtualServer) { v, ok := a.boolean(0); set(a, &vs.SorryServerInhibit, v, ok) }},
	"sorry_server_lvs_method": {1, 6, "NAT|DR|TUN ...", noBlock, func(a *args, vs *VirtualServer) { m, ok := a.method(0); set(a, &vs.SorryServerMethod, m, ok) }},
	"inhibit_on_failure":      {0, 1, "[BOOL]", noBlock, func(a *args, vs *VirtualServer) { v, ok := a.boolean(0); set(a, &vs.InhibitOnFailure, v, ok) }},
	"real_server":             {1, 2, "ADDRESS [PORT] { ... }", optBlock, realServer},
}

// granularity reads an IPv4 netmask (255.255.255.0) or a prefix length.
func granularity(a *args, vs *VirtualServer) {
	s := a.str(0)
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 128 {
		set(a, &vs.Granularity, n, true)
		return
	}
	ip, ok := a.addr(0)
	if !ok {
		return
	}
	bits, ok := maskBits(ip)
	if !ok {
		a.errf("%s is not a contiguous netmask", s)
		return
	}
	set(a, &vs.Granularity, bits, true)
}

func maskBits(ip interface{ AsSlice() []byte }) (int, bool) {
	bits, ended := 0, false
	for _, b := range ip.AsSlice() {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) != 0 {
				if ended {
					return 0, false
				}
				bits++
			} else {
				ended = true
			}
		}
	}
	return bits, true
}

func rsMethod(a *args, rs *RealServer) { m, ok := a.method(0); set(a, &rs.Method, m, ok) }

var realServerKeys = table[*RealServer]{
	"weight":     {1, 1, "INTEGER", noBlock, func(a *args, rs *RealServer) { v, ok := a.integer(0, 0, MaxWeight); set(a, &rs.Weight, int(v), ok) }},
	"lvs_method": {1, 6, "NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]", noBlock, rsMethod},
	"lb_kind":    {1, 6, "NAT|DR|TUN", noBlock, rsMethod},
	"notify_up": {1, 3, "SCRIPT [USER [GROUP]]", noBlock, func(a *args, rs *RealServer) {
		if fresh(a, rs.NotifyUp != nil) {
			rs.NotifyUp = a.script()
		}
	}},
	"notify_down": {1, 3, "SCRIPT [USER [GROUP]]", noBlock, func(a *args, rs *RealServer) {
		if fresh(a, rs.NotifyDown != nil) {
			rs.NotifyDown = a.script()
		}
	}},
	"uthreshold": {1, 1, "INTEGER", noBlock, func(a *args, rs *RealServer) {
		v, ok := a.integer(0, 0, maxInt32)
		set(a, &rs.UThreshold, uint32(v), ok)
	}},
	"lthreshold": {1, 1, "INTEGER", noBlock, func(a *args, rs *RealServer) {
		v, ok := a.integer(0, 0, maxInt32)
		set(a, &rs.LThreshold, uint32(v), ok)
	}},
	"smtp_alert":         {0, 1, "[BOOL]", noBlock, func(a *args, rs *RealServer) { v, ok := a.boolean(0); set(a, &rs.SMTPAlert, v, ok) }},
	"virtualhost":        {1, 1, "NAME", noBlock, func(a *args, rs *RealServer) { set(a, &rs.Virtualhost, a.str(0), true) }},
	"snmp_name":          {1, 1, "NAME", noBlock, func(a *args, rs *RealServer) { set(a, &rs.SNMPName, a.str(0), true) }},
	"inhibit_on_failure": {0, 1, "[BOOL]", noBlock, func(a *args, rs *RealServer) { v, ok := a.boolean(0); set(a, &rs.InhibitOnFailure, v, ok) }},
	"HTTP_GET":           {0, 0, "{ ... }", needBlock, checker("HTTP_GET")},
	"SSL_GET":            {0, 0, "{ ... }", needBlock, checker("SSL_GET")},
	"TCP_CHECK":          {0, 0, "{ ... }", needBlock, checker("TCP_CHECK")},
	"UDP_CHECK":          {0, 0, "{ ... }", needBlock, checker("UDP_CHECK")},
	"DNS_CHECK":          {0, 0, "{ ... }", needBlock, checker("DNS_CHECK")},
	"MISC_CHECK":         {0, 0, "{ ... }", needBlock, checker("MISC_CHECK")},
	"SMTP_CHECK":         {0, 0, "{ ... }", needBlock, checker("SMTP_CHECK")},
	"FILE_CHECK":         {0, 0, "{ ... }", needBlock, checker("FILE_CHECK")},
	"PING_CHECK":         {0, 0, "{ ... }", needBlock, checker("PING_CHECK")},
	"BFD_CHECK":          {0, 0, "{ ... }", needBlock, checker("BFD_CHECK")},
}

// connectionKeys are the connection options of all checkers but
// MISC_CHECK, FILE_CHECK and BFD_CHECK.
var connectionKeys = table[*CheckerBase]{
	"connect_ip":   {1, 1, "ADDRESS", noBlock, func(a *args, c *CheckerBase) { v, ok := a.addr(0); set(a, &c.ConnectIP, v, ok) }},
	"connect_port": {1, 1, "PORT", noBlock, func(a *args, c *CheckerBase) { v, ok := a.port(0, false); set(a, &c.ConnectPort, v, ok) }},
	"bindto":       {1, 1, "ADDRESS", noBlock, func(a *args, c *CheckerBase) { v, ok := a.addr(0); set(a, &c.BindTo, v, ok) }},
	"bind_if":      {1, 1, "IFNAME", noBlock, func(a *args, c *CheckerBase) { set(a, &c.BindIf, a.str(0), true) }},
	"bind_port":    {1, 1, "PORT", noBlock, func(a *args, c *CheckerBase) { v, ok := a.port(0, false); set(a, &c.BindPort, v, ok) }},
	"fwmark": {1, 1, "INTEGER", noBlock, func(a *args, c *CheckerBase) {
		v, ok := a.integer(0, 1, math.MaxUint32)
		set(a, &c.FWMark, uint32(v), ok)
	}},
	"log_all_failures": {0, 1, "[BOOL]", noBlock, logAll},
}

func logAll(a *args, c *CheckerBase) { v, ok := a.boolean(0); set(a, &c.LogAllFailures, v, ok) }

var miscBaseKeys = table[*CheckerBase]{"log_all_failures": {0, 1, "[BOOL]", noBlock, logAll}}

var httpKeys = table[*HTTPCheck]{
	"http_protocol": {1, 1, "1.0|1.0C|1.1", noBlock, func(a *args, h *HTTPCheck) {
		switch s := a.str(0); s {
		case "1.0", "1.0C", "1.0c", "1.1":
			set(a, &h.HTTPProtocol, s, true)
		default:
			a.errf("%q is not 1.0, 1.0C or 1.1", s)
		}
	}},
	"fast_recovery": {0, 1, "[BOOL]", noBlock, func(a *args, h *HTTPCheck) { v, ok := a.boolean(0); set(a, &h.FastRecovery, v, ok) }},
	"virtualhost":   {1, 1, "NAME", noBlock, func(a *args, h *HTTPCheck) { set(a, &h.Virtualhost, a.str(0), true) }},
	"nb_get_retry":  {1, 1, "INTEGER (deprecated: retry)", noBlock, func(a *args, h *HTTPCheck) { v, ok := a.integer(0, 0, maxInt32); set(a, &h.Retry, int(v), ok) }},
	"enable_sni": {0, 1, "[BOOL]", noBlock, func(a *args, h *HTTPCheck) {
		if !h.SSL {
			a.errf("only SSL_GET sends SNI")
			return
		}
		v, ok := a.boolean(0)
		set(a, &h.EnableSNI, v, ok)
	}},
	"url": {0, 0, "{ path ... }", needBlock, func(a *args, h *HTTPCheck) {
		u := &URL{Pos: a.n.Pos, End: a.n.End, Comments: a.n.Comments}
		decodeBlock(a.errs, a.n, "url", bind(urlKeys, u))
		if !u.Path.Set {
			a.errf("has no path")
		}
		h.URLs = append(h.URLs, u)
	}},
}

// regexOptions are the pcre2 options keepalived's regex_options accepts.
var regexOptions = strings.Fields(`allow_empty_class alt_bsux auto_callout caseless dollar_endonly dotall
	dupnames extended firstline match_unset_backref multiline never_ucp never_utf no_auto_capture
	no_auto_possess no_dotstar_anchor no_start_optimize ucp ungreedy utf never_backslash_c
	alt_circumflex alt_verbnames use_offset_limit`)

var urlKeys = table[*URL]{
	"path":           {1, 1, "PATH", noBlock, func(a *args, u *URL) { set(a, &u.Path, a.str(0), true) }},
	"digest":         {1, 1, "MD5HEX", noBlock, digest},
	"status_code":    {1, -1, "CODE|MIN-MAX ...", noBlock, statusCodes},
	"virtualhost":    {1, 1, "NAME", noBlock, func(a *args, u *URL) { set(a, &u.Virtualhost, a.str(0), true) }},
	"regex":          {1, 1, "REGEX", noBlock, func(a *args, u *URL) { set(a, &u.Regex, a.str(0), true) }},
	"regex_no_match": {0, 0, "", noBlock, func(a *args, u *URL) { set(a, &u.RegexNoMatch, true, true) }},
	"regex_options": {1, -1, "OPTION ...", noBlock, func(a *args, u *URL) {
		for _, o := range a.n.Args {
			if !slicesContains(regexOptions, o) {
				a.errf("unknown regex option %q%s", o, suggest(o, regexOptions))
				return
			}
		}
		u.RegexOptions = append(u.RegexOptions, a.n.Args...)
	}},
	"regex_stack": {2, 2, "START MAX", noBlock, func(a *args, u *URL) {
		s, ok1 := a.integer(0, 0, maxInt32)
		m, ok2 := a.integer(1, 0, maxInt32)
		set(a, &u.RegexStack, [2]uint32{uint32(s), uint32(m)}, ok1 && ok2)
	}},
	"regex_min_offset": {1, 1, "OFFSET", noBlock, func(a *args, u *URL) { v, ok := a.integer(0, 0, maxInt32); set(a, &u.RegexMinOffset, uint32(v), ok) }},
	"regex_max_offset": {1, 1, "OFFSET", noBlock, func(a *args, u *URL) { v, ok := a.integer(0, 0, maxInt32); set(a, &u.RegexMaxOffset, uint32(v), ok) }},
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func digest(a *args, u *URL) {
	s := a.str(0)
	if len(s) != 32 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		a.errf("%q is not an MD5 digest (32 hex digits)", s)
		return
	}
	set(a, &u.Digest, strings.ToLower(s), true)
}

func statusCodes(a *args, u *URL) {
	for _, s := range a.n.Args {
		lo, hi, isRange := strings.Cut(s, "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || l < 100 || h > 999 || l > h {
			a.errf("%q is not a status code or range (100..999)", s)
			return
		}
		u.StatusCodes = append(u.StatusCodes, StatusRange{l, h})
	}
}

var smtpKeys = table[*SMTPCheck]{
	"helo_name": {1, 1, "NAME", noBlock, func(a *args, c *SMTPCheck) { set(a, &c.HeloName, a.str(0), true) }},
}

var dnsTypes = []string{"A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"}

var dnsKeys = table[*DNSCheck]{
	"type": {1, 1, "A|NS|CNAME|SOA|MX|TXT|AAAA", noBlock, func(a *args, c *DNSCheck) {
		t := strings.ToUpper(a.str(0))
		if !slicesContains(dnsTypes, t) {
			a.errf("unknown DNS query type %q (want A, NS, CNAME, SOA, MX, TXT or AAAA)", a.str(0))
			return
		}
		set(a, &c.QueryType, t, true)
	}},
	"name": {1, 1, "DOMAIN", noBlock, func(a *args, c *DNSCheck) { set(a, &c.Name, a.str(0), true) }},
}

var miscKeys = table[*MiscCheck]{
	"misc_path":    {1, 1, "COMMAND", noBlock, func(a *args, c *MiscCheck) { set(a, &c.Path, a.str(0), true) }},
	"misc_timeout": {1, 1, "SECONDS", noBlock, func(a *args, c *MiscCheck) { v, ok := a.timer(0); set(a, &c.Timeout, v, ok) }},
	"misc_dynamic": {0, 0, "", noBlock, func(a *args, c *MiscCheck) { set(a, &c.Dynamic, true, true) }},
	"user": {1, 2, "USER [GROUP]", noBlock, func(a *args, c *MiscCheck) {
		if fresh(a, c.User != nil) {
			c.User = &RunAs{Pos: a.n.Pos, User: a.str(0), Group: a.str(1)}
		}
	}},
}

var udpKeys = table[*UDPCheck]{
	"payload": {1, -1, "HEX", noBlock, func(a *args, c *UDPCheck) { v, _, ok := hexString(a, false); set(a, &c.Payload, v, ok) }},
	"require_reply": {0, -1, "[HEX]", noBlock, func(a *args, c *UDPCheck) {
		v, mask, ok := hexString(a, true)
		set(a, &c.RequireReply, v, ok)
		c.XMask = mask
	}},
	"min_reply_length": {1, 1, "INTEGER", noBlock, func(a *args, c *UDPCheck) { v, ok := a.integer(0, 0, 65535); set(a, &c.MinReplyLength, int(v), ok) }},
	"max_reply_length": {1, 1, "INTEGER", noBlock, func(a *args, c *UDPCheck) { v, ok := a.integer(0, 0, 65535); set(a, &c.MaxReplyLength, int(v), ok) }},
}

// hexString reads keepalived's free-form hex: each word is pairs of digits,
// a last single digit is a byte of its own ("Ab12f 3" is AB 12 0F 03).
// With xok, x or X is a digit whose bits are ignored (mask nibble 0xf).
func hexString(a *args, xok bool) (data, mask []byte, ok bool) {
	nib := func(c byte) (v, m byte, ok bool) {
		if h := hexVal(c); h >= 0 {
			return byte(h), 0, true
		}
		if xok && (c == 'x' || c == 'X') {
			return 0, 0xf, true
		}
		return 0, 0, false
	}
	for _, w := range a.n.Args {
		for i := 0; i < len(w); i += 2 {
			hv, hm, ok1 := nib(w[i])
			lv, lm, ok2 := byte(0), byte(0), true
			if i+1 < len(w) {
				lv, lm, ok2 = nib(w[i+1])
			} else {
				hv, hm, lv, lm = 0, 0, hv, hm
			}
			if !ok1 || !ok2 {
				a.errf("%q is not hex", w)
				return nil, nil, false
			}
			data = append(data, hv<<4|lv)
			mask = append(mask, hm<<4|lm)
		}
	}
	return data, mask, true
}

var fileKeys = table[*FileCheck]{
	"track_file": {1, 1, "NAME", noBlock, func(a *args, c *FileCheck) { set(a, &c.TrackFile, a.str(0), true) }},
	"dynamic":    {0, 0, "", noBlock, func(a *args, c *FileCheck) { set(a, &c.Dynamic, true, true) }},
	"weight": {1, 2, "WEIGHT [reverse]", noBlock, func(a *args, c *FileCheck) {
		v, ok := a.integer(0, -maxInt32, maxInt32)
		if a.len() == 2 {
			if a.str(1) != "reverse" {
				a.errf("%q is not reverse", a.str(1))
				return
			}
			c.Reverse = true
		}
		set(a, &c.Weight, int(v), ok)
	}},
}

var bfdKeys = table[*BFDCheck]{
	"name": {1, 1, "BFD_INSTANCE", noBlock, func(a *args, c *BFDCheck) { set(a, &c.Name, a.str(0), true) }},
}

// checker decodes a checker block of kind typ.
func checker(typ string) func(a *args, rs *RealServer) {
	return func(a *args, rs *RealServer) {
		base := CheckerBase{Pos: a.n.Pos, End: a.n.End, Comments: a.n.Comments, Type: typ}
		std := []keys{} // the standard options, bound to the checker's base
		var c Checker
		switch typ {
		case "HTTP_GET", "SSL_GET":
			h := &HTTPCheck{CheckerBase: base, SSL: typ == "SSL_GET"}
			c, std = h, []keys{bind(httpKeys, h)}
		case "TCP_CHECK":
			c = &TCPCheck{base}
		case "PING_CHECK":
			c = &PingCheck{base}
		case "SMTP_CHECK":
			s := &SMTPCheck{CheckerBase: base}
			c, std = s, []keys{bind(smtpKeys, s)}
		case "DNS_CHECK":
			d := &DNSCheck{CheckerBase: base}
			c, std = d, []keys{bind(dnsKeys, d)}
		case "UDP_CHECK":
			u := &UDPCheck{CheckerBase: base}
			c, std = u, []keys{bind(udpKeys, u)}
		case "MISC_CHECK":
			m := &MiscCheck{CheckerBase: base}
			c = m
			std = []keys{bind(miscKeys, m), bind(miscBaseKeys, c.Base()), bind(miscTimingKeys, &c.Base().Timing)}
		case "FILE_CHECK":
			f := &FileCheck{CheckerBase: base}
			c, std = f, []keys{bind(fileKeys, f)}
		case "BFD_CHECK":
			b := &BFDCheck{CheckerBase: base}
			c, std = b, []keys{bind(bfdKeys, b)}
		}
		switch typ {
		case "MISC_CHECK", "FILE_CHECK", "BFD_CHECK":
		default:
			std = append(std, bind(connectionKeys, c.Base()), bind(timingKeys, &c.Base().Timing))
		}
		decodeBlock(a.errs, a.n, typ, std...)
		switch c := c.(type) {
		case *MiscCheck:
			if !c.Path.Set {
				a.errf("needs misc_path")
			}
		case *FileCheck:
			if !c.TrackFile.Set {
				a.errf("needs track_file")
			}
		case *HTTPCheck:
			if len(c.URLs) == 0 {
				a.errf("needs a url block")
			}
		}
		rs.Checkers = append(rs.Checkers, c)
	}
}

// realServer decodes real_server ADDR [PORT] { ... } into the virtual server.
func realServer(a *args, vs *VirtualServer) {
	ap, ok := a.addrPort(0)
	if !ok {
		return
	}
	if o := vs.seen[ap]; o != nil {
		a.errf("%s is given twice (first on line %d)", ap, o.Pos.Line)
		return
	}
	rs := &RealServer{Pos: a.n.Pos, End: a.n.End, Comments: a.n.Comments, Addr: ap}
	decodeBlock(a.errs, a.n, "real_server", bind(realServerKeys, rs), bind(timingKeys, &rs.Timing))
	if vs.seen == nil {
		vs.seen = map[netip.AddrPort]*RealServer{}
	}
	vs.seen[ap] = rs
	vs.RealServers = append(vs.RealServers, rs)
}
