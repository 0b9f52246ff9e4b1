package ipvsadm

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// ConnFile is the kernel's connection table, the file `ipvsadm -Lc` reads.
// It belongs to the network namespace of the process reading it.
const ConnFile = "/proc/net/ip_vs_conn"

// Conn is one entry of the kernel's connection table: a connection, or a
// persistence template (client port 0).
type Conn struct {
	Protocol string // as the kernel names it: TCP, UDP, SCTP, ...
	Client   netip.AddrPort
	Virtual  netip.AddrPort
	Dest     netip.AddrPort
	State    string // TIME_WAIT, ESTABLISHED, NONE, ...
	Expires  uint32 // seconds
	PEName   string // persistence engine, when the entry has its data
	PEData   string
}

// ParseConns reads the kernel's connection table (ConnFile's format): a
// title line, then one entry a line,
//
//	TCP C6120202 A340 C612000A 0050 C6120C02 0050 TIME_WAIT       119
//
// with IPv4 addresses as 8 hex digits and IPv6 ones in full colon form,
// ports as 4 hex digits, and the persistence engine's name and data after
// the expiry when there are some. Like ipvsadm, it skips lines it cannot
// read (the title is one).
func ParseConns(r io.Reader) ([]Conn, error) {
	var conns []Conn
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if c, ok := parseConn(sc.Text()); ok {
			conns = append(conns, c)
		}
	}
	return conns, sc.Err()
}

func parseConn(line string) (Conn, bool) {
	f := strings.Fields(line)
	if len(f) < 9 {
		return Conn{}, false
	}
	var c Conn
	c.Protocol = f[0]
	var ok1, ok2, ok3 bool
	c.Client, ok1 = procAddrPort(f[1], f[2])
	c.Virtual, ok2 = procAddrPort(f[3], f[4])
	c.Dest, ok3 = procAddrPort(f[5], f[6])
	exp, err := strconv.ParseUint(f[8], 10, 32)
	if !ok1 || !ok2 || !ok3 || err != nil {
		return Conn{}, false
	}
	c.State, c.Expires = f[7], uint32(exp)
	if len(f) > 9 {
		c.PEName = f[9]
	}
	if len(f) > 10 {
		c.PEData = f[10]
	}
	return c, true
}

// procAddrPort reads an address (8 hex digits for IPv4, colon form for
// IPv6) and a port (hex) as the kernel prints them.
func procAddrPort(addr, port string) (netip.AddrPort, bool) {
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	if strings.Contains(addr, ":") {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(a, uint16(p)), true
	}
	v, err := strconv.ParseUint(addr, 16, 32)
	if err != nil {
		return netip.AddrPort{}, false
	}
	a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	return netip.AddrPortFrom(a, uint16(p)), true
}

// ListConns writes connections the way `ipvsadm -Lnc` does, byte for byte
// (with persistent, `ipvsadm -Lnc --persistent-conn`: the persistence
// engine's columns).
func ListConns(w io.Writer, conns []Conn, persistent bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("IPVS connection entries\n")
	if persistent {
		fmt.Fprintf(bw, "pro expire %-11s %-18s %-18s %-18s %-16s %s\n",
			"state", "source", "virtual", "destination", "pe name", "pe_data")
	} else {
		fmt.Fprintf(bw, "pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination")
	}
	for i := range conns {
		c := &conns[i]
		expire := fmt.Sprintf("%02d:%02d", c.Expires/60, c.Expires%60)
		if persistent && c.PEName != "" {
			fmt.Fprintf(bw, "%-3s %-6s %-11s %-18s %-18s %-18s %-16s %s\n", c.Protocol, expire, c.State,
				c.Client, c.Virtual, c.Dest, c.PEName, c.PEData)
			continue
		}
		fmt.Fprintf(bw, "%-3s %-6s %-11s %-18s %-18s %s\n", c.Protocol, expire, c.State, c.Client, c.Virtual, c.Dest)
	}
	return bw.Flush()
}
