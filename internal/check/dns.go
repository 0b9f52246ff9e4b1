package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/value"
)

// dnsChecker is keepalived's DNS_CHECK: query Name/Type over UDP (over TCP
// when the answer is truncated) and expect Rcode, and an answer record
// containing Answer when set.
type dnsChecker struct {
	name   string // fully qualified
	qtype  uint16
	rcode  int
	answer string
}

// defaultDNS is a dns check's settings by default (Name is required).
func defaultDNS() *model.DNSCheck { return &model.DNSCheck{Type: "A", Rcode: "NOERROR"} }

// The query types and rcodes a dns check takes.
var (
	dnsTypes  = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}
	dnsRcodes = []string{"NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP"}
)

func dnsField(f func(d *model.DNSCheck) *string) func(*model.Check) *string {
	return func(c *model.Check) *string { return f(c.DNS) }
}

var dnsSpec = &Spec{
	Kind: model.CheckDNS, Doc: "Queries over UDP (again over TCP when truncated); the rcode and an answer must match.",
	Settings: []Setting{
		stringSetting("name", "string", "required", "Name to query.",
			dnsField(func(d *model.DNSCheck) *string { return &d.Name })),
		stringSetting("type", "string", "", "`"+strings.Join(dnsTypes, "`, `")+"` (any case).",
			dnsField(func(d *model.DNSCheck) *string { return &d.Type })),
		stringSetting("rcode", "string", "", "Expected response code: `"+strings.Join(dnsRcodes, "`, `")+"` (any case).",
			dnsField(func(d *model.DNSCheck) *string { return &d.Rcode })),
		stringSetting("answer", "string", "any", "An answer must contain it.",
			dnsField(func(d *model.DNSCheck) *string { return &d.Answer })),
	},
	part: func(c *model.Check) {
		withDefaults(&c.DNS, defaultDNS(), func(d, def *model.DNSCheck) {
			d.Type, d.Rcode = cmp.Or(d.Type, def.Type), cmp.Or(d.Rcode, def.Rcode)
		})
	},
	build: func(c model.Check) (prober, Problems) { return newDNS(c.DNS) },
}

// newDNS validates a dns check's settings (completed by its part) and
// builds its prober.
func newDNS(c *model.DNSCheck) (*dnsChecker, Problems) {
	var ps Problems
	d := &dnsChecker{name: dns.Fqdn(c.Name), answer: c.Answer}
	if c.Name == "" {
		ps.add("name", "dns check needs name = \"...\" (the name to query)")
	} else if err := value.CheckLine("name", c.Name); err != nil {
		ps.add("name", "%v", err)
	} else if _, ok := dns.IsDomainName(d.name); !ok {
		ps.add("name", "name %q is not a domain name", c.Name)
	}
	if err := value.CheckLine("answer", c.Answer); err != nil {
		ps.add("answer", "%v (answers are matched as one line)", err)
	}
	typ := strings.ToUpper(c.Type)
	if !slices.Contains(dnsTypes, typ) {
		ps.add("type", "type %q is not a DNS record type luvs checks (%s)", c.Type, strings.Join(dnsTypes, ", "))
	}
	d.qtype = dns.StringToType[typ]
	rcode := strings.ToUpper(c.Rcode)
	if !slices.Contains(dnsRcodes, rcode) {
		ps.add("rcode", "rcode %q is unknown (%s)", c.Rcode, strings.Join(dnsRcodes, ", "))
	}
	d.rcode = dns.StringToRcode[rcode]
	if len(ps) > 0 {
		return nil, ps
	}
	return d, nil
}

func (d *dnsChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	r, err := query(ctx, t.String(), t, d.name, d.qtype)
	if err != nil {
		return down(errMsg(ctx, err, start))
	}
	lat := time.Since(start)
	var res Result
	switch {
	case r.Rcode != d.rcode:
		res = down(fmt.Sprintf("rcode %s, want %s", rcodeName(r.Rcode), rcodeName(d.rcode)))
	case d.answer == "":
		res = up(fmt.Sprintf("%s, %d answer%s", rcodeName(r.Rcode), len(r.Answer), plural(len(r.Answer))))
	default:
		res = down(fmt.Sprintf("%s, no answer contains %q", rcodeName(r.Rcode), d.answer))
		for _, rr := range r.Answer {
			if strings.Contains(rr.String(), d.answer) {
				res = up(rcodeName(r.Rcode) + ", answer " + strings.Join(strings.Fields(rr.String()), " "))
				break
			}
		}
	}
	res.Latency = lat
	return res
}

// query asks server ("host:port") for name and qtype over UDP, again over
// TCP when the answer is truncated. An ICMP port unreachable is the error
// "port unreachable".
func query(ctx context.Context, server string, from Target, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, err := exchange(ctx, "udp", m, server, dialerFor(from, "udp"))
	if r != nil && r.Truncated {
		r, err = exchange(ctx, "tcp", m, server, dialerFor(from, "tcp"))
	}
	if isRefused(err) {
		return nil, errors.New("port unreachable")
	}
	return r, err
}

// exchange sends m over network ("udp" or "tcp") to server and reads the
// reply before ctx's deadline. A truncated reply is returned even with an
// error.
func exchange(ctx context.Context, network string, m *dns.Msg, server string, d *net.Dialer) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Dialer: d}
	if deadline, ok := ctx.Deadline(); ok {
		if c.Timeout = time.Until(deadline); c.Timeout <= 0 {
			return nil, context.DeadlineExceeded
		}
	}
	conn, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := watchConn(ctx, conn)
	defer stop()
	r, _, err := c.ExchangeWithConnContext(ctx, m, conn)
	if r != nil && r.Truncated {
		return r, nil
	}
	return r, err
}

// DNSReply is the answer to Query.
type DNSReply struct {
	Rcode   string   // "NOERROR", "NXDOMAIN", ...
	Answers []string // the answer records, in zone file syntax
}

// DNSType returns the query type named (in any case) s.
func DNSType(s string) (uint16, bool) {
	t, ok := dns.StringToType[strings.ToUpper(s)]
	return t, ok
}

// Query asks server ("host:port") for name's records of type qtype, as a
// dns check does, before ctx is done.
func Query(ctx context.Context, server, name string, qtype uint16) (DNSReply, error) {
	start := time.Now()
	r, err := query(ctx, server, Target{}, name, qtype)
	if err != nil {
		return DNSReply{}, errors.New(errMsg(ctx, err, start))
	}
	reply := DNSReply{Rcode: rcodeName(r.Rcode)}
	for _, rr := range r.Answer {
		reply.Answers = append(reply.Answers, rr.String())
	}
	return reply, nil
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
