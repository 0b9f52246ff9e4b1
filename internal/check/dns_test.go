package check

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/luvs-lb/luvs/internal/model"
)

// dnsServer is a tiny authoritative server for example.test, on UDP and
// TCP on the same port.
type dnsServer struct {
	target     Target
	udpQueries atomic.Int32
	tcpQueries atomic.Int32
}

// Names in the test zone.
const (
	dnsWWW  = "www.example.test."
	dnsAddr = "198.18.0.10"
	dnsBig  = "big.example.test." // too big for 512 bytes: truncated over UDP
	dnsLast = "record number 39"  // only in the full (TCP) answer for dnsBig
)

func startDNS(t *testing.T, addr netip.Addr) *dnsServer {
	t.Helper()
	s := &dnsServer{}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		udp := false
		if _, ok := w.RemoteAddr().(*net.UDPAddr); ok {
			udp = true
			s.udpQueries.Add(1)
		} else {
			s.tcpQueries.Add(1)
		}
		switch {
		case q.Name == dnsWWW && q.Qtype == dns.TypeA:
			rr, _ := dns.NewRR(dnsWWW + " 60 IN A " + dnsAddr)
			m.Answer = append(m.Answer, rr)
		case q.Name == dnsWWW:
			// NOERROR, no data
		case q.Name == dnsBig && q.Qtype == dns.TypeTXT:
			for i := range 40 {
				rr, _ := dns.NewRR(fmt.Sprintf(`%s 60 IN TXT "record number %d padding padding padding"`, dnsBig, i))
				m.Answer = append(m.Answer, rr)
			}
		case q.Name == "." && q.Qtype == dns.TypeSOA:
			rr, _ := dns.NewRR(". 60 IN SOA ns.example.test. admin.example.test. 1 60 60 60 60")
			m.Answer = append(m.Answer, rr)
		case q.Name == "refused.example.test.":
			m.Rcode = dns.RcodeRefused
		default:
			m.Rcode = dns.RcodeNameError
		}
		if udp {
			m.Truncate(dns.MinMsgSize)
		}
		w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	s.target = targetOf(pc.LocalAddr())
	ln, err := net.Listen("tcp", s.target.String())
	if err != nil {
		t.Fatal(err)
	}
	udpSrv := &dns.Server{PacketConn: pc, Handler: handler}
	tcpSrv := &dns.Server{Listener: ln, Handler: handler}
	for _, srv := range []*dns.Server{udpSrv, tcpSrv} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

func dnsCheck(name, typ, rcode, answer string) model.Check {
	return model.Check{Kind: model.CheckDNS, DNS: &model.DNSCheck{Name: name, Type: typ, Rcode: rcode, Answer: answer}}
}

func TestDNS(t *testing.T) {
	needNet(t)
	srv := startDNS(t, addr1)
	srv6 := startDNS(t, addr6)
	tgt := srv.target

	t.Run("soa", func(t *testing.T) {
		wantUp(t, probe(t, mustNew(t, dnsCheck(".", "SOA", "", "")), tgt, time.Second), "NOERROR, 1 answer")
	})
	t.Run("a", func(t *testing.T) {
		wantUp(t, probe(t, mustNew(t, dnsCheck("www.example.test", "A", "", "")), tgt, time.Second), "NOERROR")
	})
	t.Run("answer", func(t *testing.T) {
		c := mustNew(t, dnsCheck("www.example.test", "a", "NOERROR", dnsAddr))
		wantUp(t, probe(t, c, tgt, time.Second), dnsAddr)
		c = mustNew(t, dnsCheck("www.example.test", "A", "NOERROR", "198.18.0.11"))
		wantDown(t, probe(t, c, tgt, time.Second), `NOERROR, no answer contains "198.18.0.11"`)
		c = mustNew(t, dnsCheck("www.example.test", "AAAA", "", "2001:db8::"))
		wantDown(t, probe(t, c, tgt, time.Second), "no answer contains")
	})
	t.Run("nxdomain", func(t *testing.T) {
		wantDown(t, probe(t, mustNew(t, dnsCheck("nope.example.test", "A", "", "")), tgt, time.Second), "rcode NXDOMAIN, want NOERROR")
		wantUp(t, probe(t, mustNew(t, dnsCheck("nope.example.test", "A", "NXDOMAIN", "")), tgt, time.Second), "NXDOMAIN")
		wantDown(t, probe(t, mustNew(t, dnsCheck("www.example.test", "A", "nxdomain", "")), tgt, time.Second), "rcode NOERROR, want NXDOMAIN")
	})
	t.Run("refused", func(t *testing.T) {
		wantDown(t, probe(t, mustNew(t, dnsCheck("refused.example.test", "A", "", "")), tgt, time.Second), "rcode REFUSED, want NOERROR")
	})
	t.Run("truncated-retries-tcp", func(t *testing.T) {
		udp, tcp := srv.udpQueries.Load(), srv.tcpQueries.Load()
		c := mustNew(t, dnsCheck("big.example.test", "TXT", "", dnsLast))
		wantUp(t, probe(t, c, tgt, time.Second), dnsLast)
		if du, dt := srv.udpQueries.Load()-udp, srv.tcpQueries.Load()-tcp; du != 1 || dt != 1 {
			t.Errorf("%d UDP and %d TCP queries, want 1 and 1", du, dt)
		}
	})
	t.Run("ipv6", func(t *testing.T) {
		wantUp(t, probe(t, mustNew(t, dnsCheck("www.example.test", "A", "", dnsAddr)), srv6.target, time.Second), dnsAddr)
	})
	t.Run("port-unreachable", func(t *testing.T) {
		r := probe(t, mustNew(t, dnsCheck(dnsWWW, "", "", "")), Target{Addr: addr1, Port: unusedPort(t, "udp", addr1)}, time.Second)
		wantDown(t, r, "port unreachable")
	})
	t.Run("timeout", func(t *testing.T) {
		silent := udpServer(t, addr1, true)
		r := probe(t, mustNew(t, dnsCheck(dnsWWW, "", "", "")), silent, 300*time.Millisecond)
		wantDown(t, r, "timeout after 300ms")
		r = probe(t, mustNew(t, dnsCheck(dnsWWW, "", "", "")), Target{Addr: blackhole, Port: 53}, 300*time.Millisecond)
		wantDown(t, r, "timeout after 300ms")
	})
	t.Run("port-override", func(t *testing.T) {
		oc := dnsCheck("www.example.test", "A", "", dnsAddr)
		oc.Addr, oc.Port = addr1, tgt.Port
		wantUp(t, probe(t, mustNew(t, oc), TargetFor(oc, unrouted, 53), time.Second), dnsAddr)
	})
}
