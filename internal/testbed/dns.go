package testbed

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// DNSServer answers A queries for the names it knows; anything else is
// NXDOMAIN. It listens on UDP port 53 in a backend's namespace.
type DNSServer struct {
	srv *dns.Server
}

// StartDNS serves names (fully qualified, e.g. "www.example.test.") on the
// backend's IPv4 address, port 53.
func (b *Backend) StartDNS(names map[string]netip.Addr) (*DNSServer, error) {
	var pc net.PacketConn
	err := Do(b.NS, func() error {
		var err error
		pc, err = net.ListenPacket("udp", netip.AddrPortFrom(b.Addr4, 53).String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start DNS on %s: %w", b.Name, err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		a, ok := names[strings.ToLower(q.Name)]
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeA && a.Is4():
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: a.AsSlice()})
		}
		w.WriteMsg(m)
	})
	s := &dns.Server{PacketConn: pc, Handler: mux}
	go s.ActivateAndServe()
	return &DNSServer{srv: s}, nil
}

// Stop shuts the server down.
func (d *DNSServer) Stop() { d.srv.Shutdown() }
