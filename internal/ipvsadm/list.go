// Package ipvsadm speaks ipvsadm's text formats: the `ipvsadm -Ln` listing
// (with --stats, --rate, --thresholds, --persistent-conn, --exact), and the
// `ipvsadm -S` / `-R` rule format.
package ipvsadm

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// Format selects the columns of a listing, like ipvsadm's list options.
type Format int

// Listing formats.
const (
	Default        Format = iota // Forward Weight ActiveConn InActConn
	Stats                        // --stats
	Rate                         // --rate
	Thresholds                   // --thresholds
	PersistentConn               // --persistent-conn
)

// ListOptions tune a listing.
type ListOptions struct {
	Format Format
	// Exact prints full numbers instead of K/M/G/T abbreviations (--exact).
	Exact bool
	// NoSort keeps kernel order (--nosort); the default sorts as ipvsadm does.
	NoSort bool
	// OneService leaves out the version line, as `ipvsadm -Ln -t ADDR`
	// does when it lists one service (the table then holds just that one).
	OneService bool
}

// List writes the table the way `ipvsadm -Ln` does, byte for byte.
func List(w io.Writer, info ipvs.Info, table []ipvs.Service, opt ListOptions) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if !opt.OneService {
		fmt.Fprintf(bw, "IP Virtual Server version %s (size=%d)\n", info.VersionString(), info.ConnTabSize)
	}
	writeTitle(bw, opt.Format)
	var order destOrder
	if opt.NoSort {
		for i := range table {
			writeService(bw, &table[i], opt, &order)
		}
	} else {
		for _, s := range sortedServices(table) {
			writeService(bw, s, opt, &order)
		}
	}
	return bw.Flush()
}

func writeTitle(w *bufio.Writer, f Format) {
	switch f {
	case Stats:
		fmt.Fprintf(w, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
	case Rate:
		fmt.Fprintf(w, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
	case Thresholds:
		fmt.Fprintf(w, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn")
	case PersistentConn:
		fmt.Fprintf(w, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn")
	default:
		w.WriteString("Prot LocalAddress:Port Scheduler Flags\n" +
			"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	}
}

// serviceName is the first column: "TCP  198.18.0.10:80", "FWM  3 IPv6".
func serviceName(s *model.Service) string {
	if s.IsFWMark() {
		n := "FWM  " + strconv.FormatUint(uint64(s.FWMark), 10)
		if s.Family == model.IPv6 {
			n += " IPv6"
		}
		return n
	}
	n := fmt.Sprintf("%-4s %s", s.Protocol, addrPort(s.Addr, s.Port))
	if len(n) > 33 {
		n = n[:33]
	}
	return n
}

func addrPort(a netip.Addr, port uint16) string {
	return netip.AddrPortFrom(a, port).String()
}

// ServiceLine is a service's line in ipvsadm -Ln: name, scheduler and flags,
// e.g. "TCP  198.18.0.10:80 wrr persistent 300 mask 255.255.255.0".
func ServiceLine(s *model.Service) string {
	var b strings.Builder
	b.WriteString(serviceName(s))
	b.WriteString(" ")
	b.WriteString(s.Scheduler)
	if s.SchedFlags != 0 {
		b.WriteString(" (" + model.SchedFlagNames(s.Scheduler, s.SchedFlags) + ")")
	}
	if s.Persistent {
		fmt.Fprintf(&b, " persistent %d", s.Timeout)
		if m := s.Netmask(); s.Family == model.IPv6 && m != 128 {
			fmt.Fprintf(&b, " mask %d", m)
		} else if s.Family != model.IPv6 && m != 32 {
			fmt.Fprintf(&b, " mask %s", maskString(m))
		}
		if s.PEName != "" {
			b.WriteString(" pe " + s.PEName)
		}
	}
	if s.OnePacket {
		b.WriteString(" ops")
	}
	return b.String()
}

// DestName is a real server's address column: "198.18.1.1:80" cut to 28 characters.
func DestName(d *model.Dest) string {
	name := addrPort(d.Addr, d.Port)
	if len(name) > 28 {
		name = name[:28]
	}
	return name
}

func writeService(w *bufio.Writer, s *ipvs.Service, opt ListOptions, order *destOrder) {
	name := serviceName(&s.Service)
	switch opt.Format {
	case Stats:
		fmt.Fprintf(w, "%-33s", name)
		largeNums(w, opt.Exact, s.Stats.Conns, s.Stats.InPkts, s.Stats.OutPkts, s.Stats.InBytes, s.Stats.OutBytes)
	case Rate:
		fmt.Fprintf(w, "%-33s", name)
		largeNums(w, opt.Exact, s.Stats.CPS, s.Stats.InPPS, s.Stats.OutPPS, s.Stats.InBPS, s.Stats.OutBPS)
	default: // the plain, --thresholds and --persistent-conn layouts share the service line
		w.WriteString(ServiceLine(&s.Service))
	}
	w.WriteString("\n")
	if opt.NoSort {
		for i := range s.Dests {
			writeDest(w, &s.Dests[i], opt)
		}
		return
	}
	for _, d := range order.sorted(s.Dests) {
		writeDest(w, d, opt)
	}
}

func writeDest(w *bufio.Writer, d *ipvs.Dest, opt ListOptions) {
	var name string
	if opt.Format != Default {
		name = DestName(&d.Dest)
	}
	switch opt.Format {
	case Stats:
		fmt.Fprintf(w, "  -> %-28s", name)
		largeNums(w, opt.Exact, d.Stats.Conns, d.Stats.InPkts, d.Stats.OutPkts, d.Stats.InBytes, d.Stats.OutBytes)
		w.WriteString("\n")
	case Rate:
		fmt.Fprintf(w, "  -> %-28s %8d %8d %8d", name, uint32(d.Stats.CPS), uint32(d.Stats.InPPS), uint32(d.Stats.OutPPS))
		largeNums(w, opt.Exact, d.Stats.InBPS, d.Stats.OutBPS)
		w.WriteString("\n")
	case Thresholds:
		fmt.Fprintf(w, "  -> %-28s %-10d %-10d %-10d %-10d\n", name, d.UpperThreshold, d.LowerThreshold, d.ActiveConns, d.InactConns)
	case PersistentConn:
		fmt.Fprintf(w, "  -> %-28s %-9d %-11d %-10d %-10d\n", name, d.Weight, d.PersistConns, d.ActiveConns, d.InactConns)
	default:
		// "  -> %-28s %-7s %-6d %-10d %-10d\n" without fmt: a listing has
		// one such line per real server.
		b := w.AvailableBuffer()
		b = append(b, "  -> "...)
		start := len(b)
		b = netip.AddrPortFrom(d.Addr, d.Port).AppendTo(b)
		if len(b)-start > 28 {
			b = b[:start+28]
		}
		for len(b)-start < 28 {
			b = append(b, ' ')
		}
		b = append(b, ' ')
		b = appendPadded(b, d.Forward.String(), 7)
		b = append(b, ' ')
		b = appendIntPadded(b, int64(d.Weight), 6)
		b = append(b, ' ')
		b = appendIntPadded(b, int64(d.ActiveConns), 10)
		b = append(b, ' ')
		b = appendIntPadded(b, int64(d.InactConns), 10)
		b = append(b, '\n')
		w.Write(b)
	}
}

// appendPadded appends s left-aligned in a field of width (fmt's %-Ns).
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// appendIntPadded appends v left-aligned in a field of width (fmt's %-Nd).
func appendIntPadded(b []byte, v int64, width int) []byte {
	start := len(b)
	b = strconv.AppendInt(b, v, 10)
	for n := len(b) - start; n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// largeNums prints counters as ipvsadm's print_largenum: 9 wide, abbreviated
// with K, M, G, T unless exact.
func largeNums(w *bufio.Writer, exact bool, vals ...uint64) {
	for _, v := range vals {
		if exact {
			s := strconv.FormatUint(v, 10)
			width := 9
			if len(s) > 8 {
				width = len(s) + 1
			}
			fmt.Fprintf(w, "%*s", width, s)
			continue
		}
		switch {
		case v < 100_000_000:
			fmt.Fprintf(w, "%9d", v)
		case v < 1_000_000_000:
			fmt.Fprintf(w, "%8dK", v/1000)
		case v < 100_000_000_000:
			fmt.Fprintf(w, "%8dM", v/1_000_000)
		case v < 100_000_000_000_000:
			fmt.Fprintf(w, "%8dG", v/1_000_000_000)
		default:
			fmt.Fprintf(w, "%8dT", v/1_000_000_000_000)
		}
	}
}

func maskString(ones int) string {
	var m uint32
	if ones > 0 {
		m = ^uint32(0) << (32 - ones)
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// addrWords returns an address as four host-order 32-bit words (IPv4 in the first).
func addrWords(a netip.Addr) [4]uint32 {
	var w [4]uint32
	if a.Is4() {
		b := a.As4()
		w[0] = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		return w
	}
	b := a.As16()
	for i := range w {
		w[i] = uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
	}
	return w
}

// cmpWords mimics libipvs: differences of unsigned words taken as int.
func cmpWords(a, b netip.Addr, six bool) int32 {
	wa, wb := addrWords(a), addrWords(b)
	n := 1
	if six {
		n = 4
	}
	for i := 0; i < n; i++ {
		if r := int32(wa[i] - wb[i]); r != 0 {
			return r
		}
	}
	return 0
}

// sortedServices orders services as libipvs's ipvs_cmp_services does.
func sortedServices(in []ipvs.Service) []*ipvs.Service {
	out := make([]*ipvs.Service, len(in))
	for i := range in {
		out[i] = &in[i]
	}
	slices.SortStableFunc(out, func(a, b *ipvs.Service) int {
		if r := int32(a.FWMark - b.FWMark); r != 0 {
			return int(r)
		}
		if a.Family != b.Family {
			return cmp.Compare(a.Family, b.Family)
		}
		if a.Protocol != b.Protocol {
			return cmp.Compare(a.Protocol, b.Protocol)
		}
		if r := cmpWords(a.Addr, b.Addr, a.Family == model.IPv6); r != 0 {
			return int(r)
		}
		return cmp.Compare(a.Port, b.Port)
	})
	return out
}

// cmpDests orders real servers as libipvs's ipvs_cmp_dests does.
func cmpDests(a, b *ipvs.Dest) int {
	if fa, fb := a.Family(), b.Family(); fa != fb {
		return cmp.Compare(fa, fb)
	}
	if r := cmpWords(a.Addr, b.Addr, a.Family() == model.IPv6); r != 0 {
		return int(r)
	}
	return cmp.Compare(a.Port, b.Port)
}

// destOrder puts real servers in libipvs's order (ipvs_cmp_dests), reusing
// its buffer from one service to the next.
type destOrder struct{ buf []*ipvs.Dest }

// sorted returns pointers to in's real servers in order; they are valid
// until the next call.
func (o *destOrder) sorted(in []ipvs.Dest) []*ipvs.Dest {
	o.buf = o.buf[:0]
	for i := range in {
		o.buf = append(o.buf, &in[i])
	}
	// The kernel lists a service's real servers newest first: a table added
	// in order comes back in reverse, which a reversal sorts (stably: no two
	// are equal). Only where libipvs's comparison is a true order (IPv4
	// addresses less than 2^31 apart: it compares differences as int) are
	// the shortcuts certain to give what the sort gives.
	if consistentOrder(in) {
		sorted, reversed := true, true
		for i := 1; i < len(o.buf) && (sorted || reversed); i++ {
			c := cmpDests(o.buf[i-1], o.buf[i])
			sorted = sorted && c <= 0
			reversed = reversed && c > 0
		}
		switch {
		case sorted:
			return o.buf
		case reversed:
			slices.Reverse(o.buf)
			return o.buf
		}
	}
	slices.SortStableFunc(o.buf, cmpDests)
	return o.buf
}

// consistentOrder reports whether all of ds are IPv4 with addresses within
// 2^31 of each other, where cmpDests is a total order.
func consistentOrder(ds []ipvs.Dest) bool {
	lo, hi := ^uint32(0), uint32(0)
	for i := range ds {
		if !ds[i].Addr.Is4() {
			return false
		}
		w := addrWords(ds[i].Addr)[0]
		lo, hi = min(lo, w), max(hi, w)
	}
	return hi-lo < 1<<31
}
