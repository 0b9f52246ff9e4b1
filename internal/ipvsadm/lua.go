package ipvsadm

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/luvs-lb/luvs/internal/model"
)

// WriteLua writes st as a luvs configuration (the Lua DSL) that asks for
// exactly that table: `luvs apply` of it builds what `luvs restore` of the
// rules builds. Every field the rule format can express is written; keys at
// their default are left out, except the scheduler, and the forwarding method,
// which is given once per virtual server when its real servers share it (the
// DSL's default, NAT, differs from ipvsadm's, direct routing). from names the
// source in the title comment ("" for none).
func WriteLua(w io.Writer, st *model.State, from string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if from != "" {
		fmt.Fprintf(bw, "-- luvs configuration imported from the ipvsadm rules in %s\n", luaComment(from))
	} else {
		bw.WriteString("-- luvs configuration imported from ipvsadm rules\n")
	}
	bw.WriteString("-- (no health checks: add check = ... to a virtual_server or defaults to get some)\n")
	for i := range st.Services {
		bw.WriteString("\n")
		writeLuaService(bw, &st.Services[i])
	}
	return bw.Flush()
}

func luaComment(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < ' ' || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

func luaForward(m model.ForwardMethod) string {
	switch m {
	case model.Masquerade:
		return "nat"
	case model.Tunnel:
		return "tunnel"
	case model.LocalNode:
		return "local"
	}
	return "dr"
}

func writeLuaService(w *bufio.Writer, v *model.VirtualServer) {
	s := &v.Service
	fmt.Fprintf(w, "virtual_server %s {\n", strconv.Quote(s.ServiceKey.Spec()))
	fmt.Fprintf(w, "  scheduler = %s,", strconv.Quote(s.Scheduler))
	if s.SchedFlags != 0 {
		fmt.Fprintf(w, " sched_flags = %s,", strconv.Quote(model.SchedFlagNames(s.Scheduler, s.SchedFlags)))
	}
	if s.Persistent {
		fmt.Fprintf(w, " persistence = \"%ds\",", s.Timeout)
		if m := s.Netmask(); s.Family == model.IPv6 && m != 128 {
			fmt.Fprintf(w, " netmask = %d,", m)
		} else if s.Family != model.IPv6 && m != 32 {
			fmt.Fprintf(w, " netmask = %q,", maskString(m))
		}
		if s.PEName != "" {
			fmt.Fprintf(w, " pe = %s,", strconv.Quote(s.PEName))
		}
	}
	if s.OnePacket {
		w.WriteString(" one_packet = true,")
	}
	shared := len(v.Dests) > 0
	for i := range v.Dests {
		shared = shared && v.Dests[i].Forward == v.Dests[0].Forward
	}
	if shared {
		fmt.Fprintf(w, " forward = %q,", luaForward(v.Dests[0].Forward))
	}
	w.WriteString("\n")
	for i := range v.Dests {
		d := &v.Dests[i]
		addr := d.Addr.String()
		switch {
		case d.Port != 0:
			addr = netip.AddrPortFrom(d.Addr, d.Port).String()
		case d.Addr.Is6():
			addr = "[" + addr + "]"
		}
		fmt.Fprintf(w, "  real_server %s {", strconv.Quote(addr))
		sep := " "
		field := func(format string, args ...any) {
			w.WriteString(sep)
			fmt.Fprintf(w, format, args...)
			sep = ", "
		}
		if d.Weight != 1 {
			field("weight = %d", d.Weight)
		}
		if !shared {
			field("forward = %q", luaForward(d.Forward))
		}
		if d.Forward == model.Tunnel {
			if d.TunnelType != model.TunnelIPIP {
				field("tunnel_type = %q", d.TunnelType)
			}
			if d.TunnelPort != 0 {
				field("tunnel_port = %d", d.TunnelPort)
			}
			switch {
			case d.TunnelFlags&model.TunnelRemCsum != 0:
				field(`tunnel_csum = "remcsum"`)
			case d.TunnelFlags&model.TunnelCsum != 0:
				field(`tunnel_csum = "csum"`)
			}
		}
		if d.UpperThreshold != 0 {
			field("upper_threshold = %d", d.UpperThreshold)
		}
		if d.LowerThreshold != 0 {
			field("lower_threshold = %d", d.LowerThreshold)
		}
		if sep == " " {
			w.WriteString("},\n")
		} else {
			w.WriteString(" },\n")
		}
	}
	w.WriteString("}\n")
}
