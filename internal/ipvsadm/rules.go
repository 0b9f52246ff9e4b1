package ipvsadm

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// Defaults ipvsadm applies when a rule leaves a field out.
const (
	DefaultScheduler   = "wlc"
	DefaultPersistence = 300
)

// Save writes the table as `ipvsadm -Sn` does: one -A line per service
// followed by its -a lines. Thresholds, which ipvsadm drops, are kept as -x/-y.
func Save(w io.Writer, table []ipvs.Service) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, s := range sortedServices(table) {
		name := ruleServiceName(&s.Service)
		fmt.Fprintf(bw, "-A %s -s %s", name, s.Scheduler)
		if s.Persistent {
			fmt.Fprintf(bw, " -p %d", s.Timeout)
			if m := s.Netmask(); s.Family == model.IPv6 && m != 128 {
				fmt.Fprintf(bw, " -M %d", m)
			} else if s.Family != model.IPv6 && m != 32 {
				bw.WriteString(" -M " + maskString(m))
			}
			if s.PEName != "" {
				bw.WriteString(" --pe " + s.PEName)
			}
		}
		if s.OnePacket {
			bw.WriteString(" -o")
		}
		if s.SchedFlags != 0 {
			bw.WriteString(" -b " + model.SchedFlagNames(s.Scheduler, s.SchedFlags))
		}
		bw.WriteString("\n")
		for _, d := range sortedDests(s.Dests) {
			fmt.Fprintf(bw, "-a %s -r %s %s -w %d", name, addrPort(d.Addr, d.Port), forwardSwitch(d.Forward), d.Weight)
			if d.Forward == model.Tunnel {
				fmt.Fprintf(bw, " --tun-type %s", d.TunnelType)
			}
			if d.Forward == model.Tunnel && d.TunnelType != model.TunnelIPIP {
				if d.TunnelType == model.TunnelGUE {
					fmt.Fprintf(bw, " --tun-port %d", d.TunnelPort)
				}
				switch {
				case d.TunnelFlags&model.TunnelRemCsum != 0:
					bw.WriteString(" --tun-remcsum")
				case d.TunnelFlags&model.TunnelCsum != 0:
					bw.WriteString(" --tun-csum")
				default:
					bw.WriteString(" --tun-nocsum")
				}
			}
			if d.UpperThreshold != 0 {
				fmt.Fprintf(bw, " -x %d", d.UpperThreshold)
			}
			if d.LowerThreshold != 0 {
				fmt.Fprintf(bw, " -y %d", d.LowerThreshold)
			}
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}

func ruleServiceName(s *model.Service) string {
	if s.IsFWMark() {
		n := "-f " + strconv.FormatUint(uint64(s.FWMark), 10)
		if s.Family == model.IPv6 {
			n += " -6"
		}
		return n
	}
	sw := map[model.Protocol]string{model.TCP: "-t", model.UDP: "-u", model.SCTP: "--sctp-service"}[s.Protocol]
	return sw + " " + addrPort(s.Addr, s.Port)
}

func forwardSwitch(m model.ForwardMethod) string {
	switch m {
	case model.Masquerade:
		return "-m"
	case model.Tunnel:
		return "-i"
	}
	return "-g"
}

// ParseError is a problem in a rules file, with its line number.
type ParseError struct {
	Name string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg) }

// Parse reads ipvsadm rules (the -S output, or any list of -A/-E/-D/-a/-e/-d/-C
// commands as `ipvsadm -R` takes them) and returns the table they describe.
// The commands are replayed in order on an empty table, so the result is what
// the kernel would hold after `ipvsadm -C; ipvsadm -R`. Every line's problems
// are reported, not just the first.
func Parse(name string, r io.Reader) (*model.State, error) {
	st := &model.State{}
	index := map[model.ServiceKey]int{}
	var errs model.Problems
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var fields []string
	var ru rule
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields = appendFields(fields[:0], text)
		if fields[0] == "ipvsadm" {
			fields = fields[1:]
		}
		if err := applyRule(st, index, &ru, fields); err != nil {
			errs = append(errs, model.Problem{Where: fmt.Sprintf("%s:%d", name, line), Msg: err.Error()})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return st, nil
}

// rule is one parsed command line.
type rule struct {
	cmd     string
	svc     model.Service
	hasSvc  bool
	dest    model.Dest
	hasDest bool
}

// appendFields splits s at runs of spaces and tabs, like strings.Fields,
// reusing dst.
func appendFields(dst []string, s string) []string {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return dst
		}
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i:]
	}
}

// applyRule replays one command line on st; r is scratch space.
func applyRule(st *model.State, index map[model.ServiceKey]int, r *rule, args []string) error {
	if err := r.parse(args); err != nil {
		return err
	}
	if r.cmd == "C" {
		st.Services = nil
		clear(index)
		return nil
	}
	if !r.hasSvc {
		return fmt.Errorf("-%s needs a service (-t, -u, --sctp-service or -f)", r.cmd)
	}
	k := r.svc.ServiceKey
	i, exists := index[k]
	switch r.cmd {
	case "A":
		if exists {
			return fmt.Errorf("service %s already exists", k)
		}
		index[k] = len(st.Services)
		st.Services = append(st.Services, model.VirtualServer{Service: r.svc})
		return nil
	}
	if !exists {
		return fmt.Errorf("no such service %s", k)
	}
	v := &st.Services[i]
	switch r.cmd {
	case "E":
		v.Service = r.svc
	case "D":
		st.Services = append(st.Services[:i], st.Services[i+1:]...)
		clear(index)
		for j := range st.Services {
			index[st.Services[j].ServiceKey] = j
		}
	case "a", "e", "d":
		if !r.hasDest {
			return fmt.Errorf("-%s needs a real server (-r)", r.cmd)
		}
		if r.dest.Port == 0 && !k.IsFWMark() {
			r.dest.Port = k.Port
		}
		cur := v.Dest(r.dest.DestKey)
		switch {
		case r.cmd == "a" && cur != nil:
			return fmt.Errorf("real server %s already exists in %s", r.dest.DestKey, k)
		case r.cmd != "a" && cur == nil:
			return fmt.Errorf("no real server %s in %s", r.dest.DestKey, k)
		case r.cmd == "a":
			v.Dests = append(v.Dests, r.dest)
		case r.cmd == "e":
			*cur = r.dest
		default:
			for j := range v.Dests {
				if v.Dests[j].DestKey == r.dest.DestKey {
					v.Dests = append(v.Dests[:j], v.Dests[j+1:]...)
					break
				}
			}
		}
	}
	return nil
}

var commands = map[string]string{
	"-A": "A", "--add-service": "A", "-E": "E", "--edit-service": "E", "-D": "D", "--delete-service": "D",
	"-a": "a", "--add-server": "a", "-e": "e", "--edit-server": "e", "-d": "d", "--delete-server": "d",
	"-C": "C", "--clear": "C",
}

// parse fills r from one command line, with ipvsadm's defaults.
func (r *rule) parse(args []string) error {
	*r = rule{}
	r.svc.Scheduler = DefaultScheduler
	r.dest.Weight = 1
	r.dest.Forward = model.DirectRoute
	ipv6Mark := false
	var mask, schedFlags string
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		if c, ok := commands[a]; ok {
			if r.cmd != "" {
				return fmt.Errorf("two commands on one line (-%s and %s)", r.cmd, a)
			}
			r.cmd = c
			continue
		}
		var err error
		var v string
		switch a {
		case "-t", "--tcp-service", "-u", "--udp-service", "--sctp-service":
			if v, err = value(); err == nil {
				proto := model.TCP
				switch a {
				case "-u", "--udp-service":
					proto = model.UDP
				case "--sctp-service":
					proto = model.SCTP
				}
				err = r.setServiceAddr(proto, v)
			}
		case "-f", "--fwmark-service":
			if v, err = value(); err == nil {
				var m uint64
				m, err = strconv.ParseUint(v, 0, 32)
				if err != nil || m == 0 {
					err = fmt.Errorf("invalid fwmark %q (want an integer from 1 to 4294967295)", v)
				}
				r.svc.FWMark, r.svc.Family, r.hasSvc = uint32(m), model.IPv4, true
			}
		case "-6", "--ipv6":
			ipv6Mark = true
		case "-s", "--scheduler":
			r.svc.Scheduler, err = value()
		case "-p", "--persistent":
			r.svc.Persistent, r.svc.Timeout = true, DefaultPersistence
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				v, _ = value()
				var t uint64
				if t, err = strconv.ParseUint(v, 10, 32); err != nil || t == 0 || t > model.MaxPersistTimeout {
					err = fmt.Errorf("invalid persistence timeout %q (1..%d seconds)", v, model.MaxPersistTimeout)
				}
				r.svc.Timeout = uint32(t)
			}
		case "-M", "--netmask":
			mask, err = value()
		case "-b", "--sched-flags":
			schedFlags, err = value()
		case "-o", "--ops":
			r.svc.OnePacket = true
		case "--pe":
			r.svc.PEName, err = value()
		case "-r", "--real-server":
			if v, err = value(); err == nil {
				err = r.setDestAddr(v)
			}
		case "-g", "--gatewaying":
			r.dest.Forward = model.DirectRoute
		case "-i", "--ipip":
			r.dest.Forward = model.Tunnel
		case "-m", "--masquerading":
			r.dest.Forward = model.Masquerade
		case "-w", "--weight":
			r.dest.Weight, err = intValue(a, value, 0, model.MaxWeight)
		case "-x", "--u-threshold":
			var n int
			n, err = intValue(a, value, 0, 1<<31-1)
			r.dest.UpperThreshold = uint32(n)
		case "-y", "--l-threshold":
			var n int
			n, err = intValue(a, value, 0, 1<<31-1)
			r.dest.LowerThreshold = uint32(n)
		case "--tun-type":
			if v, err = value(); err == nil {
				r.dest.TunnelType, err = model.ParseTunnelType(v)
			}
		case "--tun-port":
			var n int
			n, err = intValue(a, value, 1, 65535)
			r.dest.TunnelPort = uint16(n)
		case "--tun-nocsum":
			r.dest.TunnelFlags = 0
		case "--tun-csum":
			r.dest.TunnelFlags = model.TunnelCsum
		case "--tun-remcsum":
			r.dest.TunnelFlags = model.TunnelRemCsum
		default:
			return fmt.Errorf("unknown option %q", a)
		}
		if err != nil {
			return err
		}
	}
	if r.cmd == "" {
		return fmt.Errorf("no command (-A, -E, -D, -a, -e, -d or -C)")
	}
	if ipv6Mark && r.svc.IsFWMark() {
		r.svc.Family = model.IPv6
	}
	if schedFlags != "" {
		for _, f := range strings.Split(schedFlags, ",") {
			bit, err := model.ParseSchedFlag(r.svc.Scheduler, f)
			if err != nil {
				return err
			}
			r.svc.SchedFlags |= bit
		}
	}
	if mask != "" {
		bits, err := parseNetmask(r.svc.Family, mask)
		if err != nil {
			return err
		}
		r.svc.NetmaskBits = bits
	}
	if r.svc.Persistent && r.svc.NetmaskBits == 0 {
		r.svc.NetmaskBits = r.svc.Netmask()
	}
	return nil
}

func intValue(opt string, value func() (string, error), lo, hi int) (int, error) {
	v, err := value()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("invalid value %q for %s (want %d..%d)", v, opt, lo, hi)
	}
	return n, nil
}

func (r *rule) setServiceAddr(proto model.Protocol, v string) error {
	ap, err := parseHostPort(v)
	if err != nil {
		return fmt.Errorf("invalid service address %q: %v", v, err)
	}
	r.svc.Protocol, r.svc.Addr, r.svc.Port = proto, ap.Addr(), ap.Port()
	r.svc.Family = model.FamilyOf(ap.Addr())
	r.hasSvc = true
	return nil
}

func (r *rule) setDestAddr(v string) error {
	ap, err := parseHostPort(v)
	if err != nil {
		return fmt.Errorf("invalid real server address %q: %v", v, err)
	}
	r.dest.Addr, r.dest.Port = ap.Addr(), ap.Port()
	r.hasDest = true
	return nil
}

// parseHostPort accepts "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:80" and a
// bare IPv6 address; a missing port is 0. Host names are not resolved.
func parseHostPort(v string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("not a numeric address[:port]")
	}
	return netip.AddrPortFrom(a.Unmap(), 0), nil
}

// parseNetmask accepts a dotted IPv4 mask or, for IPv6, a prefix length.
func parseNetmask(f model.Family, v string) (int, error) {
	if f == model.IPv6 {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 128 {
			return 0, fmt.Errorf("invalid IPv6 netmask %q (want a prefix length 1..128)", v)
		}
		return n, nil
	}
	a, err := netip.ParseAddr(v)
	if err == nil && a.Is4() {
		b := a.As4()
		m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		ones := 0
		for ones < 32 && m&(1<<(31-ones)) != 0 {
			ones++
		}
		if m<<ones == 0 && ones > 0 {
			return ones, nil
		}
	}
	return 0, fmt.Errorf("invalid netmask %q (want a contiguous mask such as 255.255.255.0)", v)
}
