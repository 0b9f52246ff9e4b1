package check

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/luvs-lb/luvs/internal/model"
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

// DNS check defaults, as keepalived's DNS_CHECK.
const (
	defaultDNSName = "."
	defaultDNSType = "SOA"
)

func newDNS(c *model.DNSCheck) (*dnsChecker, error) {
	if c == nil {
		c = &model.DNSCheck{}
	}
	d := &dnsChecker{name: c.Name, answer: c.Answer, rcode: dns.RcodeSuccess}
	if d.name == "" {
		d.name = defaultDNSName
	}
	d.name = dns.Fqdn(d.name)
	if _, ok := dns.IsDomainName(d.name); !ok {
		return nil, fmt.Errorf("bad query name %q", c.Name)
	}
	typ := strings.ToUpper(c.Type)
	if typ == "" {
		typ = defaultDNSType
	}
	qt, ok := dns.StringToType[typ]
	if !ok {
		return nil, fmt.Errorf("unknown query type %q", c.Type)
	}
	d.qtype = qt
	if c.Rcode != "" {
		rc, ok := dns.StringToRcode[strings.ToUpper(c.Rcode)]
		if !ok {
			return nil, fmt.Errorf("unknown rcode %q", c.Rcode)
		}
		d.rcode = rc
	}
	return d, nil
}

func (d *dnsChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	m := new(dns.Msg)
	m.SetQuestion(d.name, d.qtype)
	r, err := d.exchange(ctx, "udp", m, t)
	if r != nil && r.Truncated {
		r, err = d.exchange(ctx, "tcp", m, t)
	}
	if err != nil {
		if isRefused(err) {
			return down("port unreachable")
		}
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

// exchange sends m over network ("udp" or "tcp") to t and reads the reply
// before ctx's deadline. A truncated reply is returned even with an error.
func (d *dnsChecker) exchange(ctx context.Context, network string, m *dns.Msg, t Target) (*dns.Msg, error) {
	deadline := deadlineFrom(ctx)
	c := &dns.Client{Net: network, Timeout: time.Until(deadline)}
	if c.Timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	conn, err := c.DialContext(ctx, t.String())
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
