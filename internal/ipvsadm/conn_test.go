package ipvsadm

import (
	"bytes"
	"strings"
	"testing"
)

// Captured in the VM (Debian's 6.1 kernel): /proc/net/ip_vs_conn after HTTP
// requests through an IPv4 VIP and a persistent IPv6 VIP, and what ipvsadm
// 1.31's -Lnc printed for it (the expiry read a second later).
const procConns = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 2001:0db8:0002:0000:0000:0000:0000:0002 E882 2001:0db8:0000:0000:0000:0000:0000:0010 0050 2001:0db8:0012:0000:0000:0000:0000:0002 0050 TIME_WAIT       119
TCP C6120202 A340 C612000A 0050 C6120C02 0050 TIME_WAIT       119
TCP 2001:0db8:0002:0000:0000:0000:0000:0002 0000 2001:0db8:0000:0000:0000:0000:0000:0010 0050 2001:0db8:0012:0000:0000:0000:0000:0002 0050 ASSURED          29
TCP C6120202 A32C C612000A 0050 C6120C02 0050 TIME_WAIT       118
TCP C6120202 A33A C612000A 0050 C6120B02 0050 TIME_WAIT       119
UDP C6120202 D431 C612000A 0035 C6120B02 0035 UDP             299
SCTP C6120202 D431 C612000A 0F1C 2001:0db8:0012:0000:0000:0000:0000:0002 0F1C ESTABLISHED    6001
UDP C6120202 13C4 C612000A 13C4 C6120B02 13C4 ESTABLISHED       42 sip 3a7b-1
`

func TestListConns(t *testing.T) {
	conns, err := ParseConns(strings.NewReader(procConns))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ListConns(&b, conns, false); err != nil {
		t.Fatal(err)
	}
	want := `IPVS connection entries
pro expire state       source             virtual            destination
TCP 01:59  TIME_WAIT   [2001:db8:2::2]:59522 [2001:db8::10]:80  [2001:db8:12::2]:80
TCP 01:59  TIME_WAIT   198.18.2.2:41792   198.18.0.10:80     198.18.12.2:80
TCP 00:29  ASSURED     [2001:db8:2::2]:0  [2001:db8::10]:80  [2001:db8:12::2]:80
TCP 01:58  TIME_WAIT   198.18.2.2:41772   198.18.0.10:80     198.18.12.2:80
TCP 01:59  TIME_WAIT   198.18.2.2:41786   198.18.0.10:80     198.18.11.2:80
UDP 04:59  UDP         198.18.2.2:54321   198.18.0.10:53     198.18.11.2:53
SCTP 100:01 ESTABLISHED 198.18.2.2:54321   198.18.0.10:3868   [2001:db8:12::2]:3868
UDP 00:42  ESTABLISHED 198.18.2.2:5060    198.18.0.10:5060   198.18.11.2:5060
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	_ = ListConns(&b, conns[len(conns)-2:], true)
	want = `IPVS connection entries
pro expire state       source             virtual            destination        pe name          pe_data
SCTP 100:01 ESTABLISHED 198.18.2.2:54321   198.18.0.10:3868   [2001:db8:12::2]:3868
UDP 00:42  ESTABLISHED 198.18.2.2:5060    198.18.0.10:5060   198.18.11.2:5060   sip              3a7b-1
`
	if b.String() != want {
		t.Errorf("--persistent-conn: got:\n%s\nwant:\n%s", b.String(), want)
	}
	if c := conns[7]; c.PEName != "sip" || c.PEData != "3a7b-1" || c.Expires != 42 {
		t.Errorf("pe entry: %+v", c)
	}
}

func TestParseConnsSkipsWhatItCannotRead(t *testing.T) {
	conns, err := ParseConns(strings.NewReader("garbage\nTCP ZZ 0050 C612000A 0050 C6120C02 0050 NONE 1\n\nTCP C6120202 A340 C612000A 0050 C6120C02 0050 NONE 5\n"))
	if err != nil || len(conns) != 1 || conns[0].State != "NONE" {
		t.Fatalf("%+v %v", conns, err)
	}
}
