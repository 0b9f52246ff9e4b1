package check

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// udpServer serves on addr: it answers every datagram with "echo:" and the
// datagram, or never answers when silent. It returns its target.
func udpServer(t *testing.T, addr netip.Addr, silent bool) Target {
	t.Helper()
	pc, err := net.ListenPacket("udp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if !silent {
				pc.WriteTo(append([]byte("echo:"), buf[:n]...), from)
			}
		}
	}()
	return targetOf(pc.LocalAddr())
}

func udpCheck(payload, expect string) model.Check {
	u := &model.UDPCheck{}
	if payload != "" {
		u.Payload = []byte(payload)
	}
	if expect != "" {
		u.Expect = []byte(expect)
	}
	return model.Check{Kind: model.CheckUDP, UDP: u}
}

func TestUDP(t *testing.T) {
	needNet(t)
	echo := udpServer(t, addr1, false)
	echo6 := udpServer(t, addr6, false)
	silent := udpServer(t, addr1, true)

	t.Run("reply", func(t *testing.T) {
		r := probe(t, mustNew(t, udpCheck("ping", "")), echo, time.Second)
		wantUp(t, r, "reply of 9 bytes")
	})
	t.Run("empty-datagram", func(t *testing.T) {
		wantUp(t, probe(t, mustNew(t, model.Check{Kind: model.CheckUDP}), echo, time.Second), "reply of 5 bytes")
	})
	t.Run("expect", func(t *testing.T) {
		wantUp(t, probe(t, mustNew(t, udpCheck("ping", "o:pi")), echo, time.Second), "reply")
		wantDown(t, probe(t, mustNew(t, udpCheck("ping", "pong")), echo, time.Second), `reply does not contain "pong"`)
	})
	t.Run("ipv6", func(t *testing.T) {
		wantUp(t, probe(t, mustNew(t, udpCheck("ping", "echo:ping")), echo6, time.Second), "reply")
	})
	t.Run("port-unreachable", func(t *testing.T) {
		r := probe(t, mustNew(t, udpCheck("ping", "")), Target{Addr: addr1, Port: unusedPort(t, "udp", addr1)}, time.Second)
		wantDown(t, r, "port unreachable")
		if r.Latency > 500*time.Millisecond {
			t.Errorf("port unreachable took %v: not noticed before the deadline", r.Latency)
		}
	})
	t.Run("port-unreachable-ipv6", func(t *testing.T) {
		r := probe(t, mustNew(t, udpCheck("ping", "")), Target{Addr: addr6, Port: unusedPort(t, "udp", addr6)}, time.Second)
		wantDown(t, r, "port unreachable")
	})
	t.Run("no-reply", func(t *testing.T) {
		r := probe(t, mustNew(t, udpCheck("ping", "")), silent, 300*time.Millisecond)
		wantDown(t, r, "no reply after 300ms")
	})
	t.Run("no-reply-blackhole", func(t *testing.T) {
		r := probe(t, mustNew(t, udpCheck("ping", "")), Target{Addr: blackhole, Port: 53}, 300*time.Millisecond)
		wantDown(t, r, "no reply after 300ms")
	})
	t.Run("unreachable", func(t *testing.T) {
		wantDown(t, probe(t, mustNew(t, udpCheck("ping", "")), Target{Addr: unrouted, Port: 53}, time.Second), "network is unreachable")
	})
	t.Run("port-override", func(t *testing.T) {
		oc := udpCheck("x", "echo:x")
		oc.Port = echo.Port
		wantUp(t, probe(t, mustNew(t, oc), TargetFor(oc, addr1, 9), time.Second), "reply")
	})
	t.Run("payload-not-shared", func(t *testing.T) {
		p := []byte("abc")
		c := mustNew(t, model.Check{Kind: model.CheckUDP, UDP: &model.UDPCheck{Payload: p, Expect: []byte("echo:abc")}})
		copy(p, "xyz")
		if r := probe(t, c, echo, time.Second); !r.OK || !bytes.Contains([]byte(r.Msg), []byte("reply")) {
			t.Errorf("got %s", fmtResult(r))
		}
	})
}
