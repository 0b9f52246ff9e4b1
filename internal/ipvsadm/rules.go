package ipvsadm

import (
	"bufio"
	"bytes"
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

// Defaults ipvsadm applies when a rule leaves a field out.
const (
	DefaultScheduler   = "wlc"
	DefaultPersistence = 300
)

// Save writes the table as `ipvsadm -Sn` does: one -A line per service
// followed by its -a lines. Thresholds, which ipvsadm drops, are kept as -x/-y.
func Save(w io.Writer, table []ipvs.Service) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var order destOrder
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
		for _, d := range order.sorted(s.Dests) {
			// "-a %s -r %s %s -w %d" without fmt: one line per real server.
			b := bw.AvailableBuffer()
			b = append(b, "-a "...)
			b = append(b, name...)
			b = append(b, " -r "...)
			b = netip.AddrPortFrom(d.Addr, d.Port).AppendTo(b)
			b = append(b, ' ')
			b = append(b, forwardSwitch(d.Forward)...)
			b = append(b, " -w "...)
			b = strconv.AppendInt(b, int64(d.Weight), 10)
			bw.Write(b)
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
	var sw string
	switch s.Protocol {
	case model.TCP:
		sw = "-t"
	case model.UDP:
		sw = "-u"
	case model.SCTP:
		sw = "--sctp-service"
	}
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

// Errors is every problem Parse found, in line order, one a line.
type Errors []*ParseError

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// MaxLineLength is the longest line, in bytes without its end, that Parse reads.
const MaxLineLength = 1 << 20

// Parse reads ipvsadm rules (the -S output, or any list of -A/-E/-D/-a/-e/-d/-C
// commands as `ipvsadm -R` takes them) and returns the table they describe.
// The commands are replayed in order on an empty table, so the result is what
// the kernel would hold after `ipvsadm -C; ipvsadm -R`; the result is then
// checked with the model's validation. Every problem is reported, not just
// the first: the error is an Errors, each naming the line at fault (for a
// validation problem, the last -A/-E of the service or -a/-e of the real
// server).
func Parse(name string, r io.Reader) (*model.State, error) {
	p := &parser{name: name, index: map[model.ServiceKey]int{}, lastIdx: -1}
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	var fields []string
	var ru rule
	for line := 1; ; line++ {
		var n int
		var err error
		buf, n, err = readLine(br, buf[:0], MaxLineLength)
		if n == 0 && err == io.EOF {
			break
		}
		if n > MaxLineLength {
			p.problem(line, "line longer than %d bytes", MaxLineLength)
		} else if text := strings.TrimSpace(string(buf)); text != "" && !strings.HasPrefix(text, "#") {
			fields = appendFields(fields[:0], text)
			if fields[0] == "ipvsadm" {
				fields = fields[1:]
			}
			if err := p.apply(&ru, fields, line); err != nil {
				p.problem(line, "%v", err)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			p.problem(line, "read error: %v", err)
			break
		}
	}
	st := p.state()
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *ParseError) int { return cmp.Compare(a.Line, b.Line) })
		return nil, p.errs
	}
	return st, nil
}

// readLine appends the next line of br to buf, without its "\n" or "\r\n",
// and returns it with the line's length. A line over max bytes is read to its
// end but not kept. err is io.EOF at the end of the input (n is then 0 unless
// the last line has no "\n").
func readLine(br *bufio.Reader, buf []byte, max int) ([]byte, int, error) {
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if err == nil {
			chunk = bytes.TrimSuffix(chunk[:len(chunk)-1], []byte("\r"))
		}
		n += len(chunk)
		if n <= max {
			buf = append(buf, chunk...)
		}
		if err != bufio.ErrBufferFull {
			return buf, n, err
		}
	}
}

// parser replays rules on a table indexed by service and real server, so
// that every command takes constant time. Deleted entries stay in place,
// with line 0, until state compacts them.
type parser struct {
	name     string
	services []service
	index    map[model.ServiceKey]int // live services by key
	errs     Errors
	// last is the service the previous command named (its index in
	// services), when it is live: -a lines follow their -A, and comparing
	// one key is cheaper than hashing it.
	last    model.ServiceKey
	lastIdx int // -1: none
}

type service struct {
	model.VirtualServer
	line      int   // of the last -A or -E; 0 once deleted
	destLines []int // of each real server's last -a or -e; 0 once deleted
	deleted   int   // real servers deleted
	// byKey indexes the live real servers once there are more than
	// smallService entries in Dests; until then they are searched.
	byKey map[model.DestKey]int
}

const smallService = 16

// dest returns the index of the live real server k, or -1.
func (v *service) dest(k model.DestKey) int {
	if v.byKey != nil {
		if j, ok := v.byKey[k]; ok {
			return j
		}
		return -1
	}
	for j := range v.Dests {
		if v.destLines[j] != 0 && v.Dests[j].DestKey == k {
			return j
		}
	}
	return -1
}

func (v *service) addDest(d model.Dest, line int) {
	if v.Dests == nil {
		// Start with room for a few: most services have several.
		v.Dests, v.destLines = make([]model.Dest, 0, 4), make([]int, 0, 4)
	}
	v.Dests = append(v.Dests, d)
	v.destLines = append(v.destLines, line)
	switch {
	case v.byKey != nil:
		v.byKey[d.DestKey] = len(v.Dests) - 1
	case len(v.Dests) > smallService:
		v.byKey = make(map[model.DestKey]int, 2*len(v.Dests))
		for j := range v.Dests {
			if v.destLines[j] != 0 {
				v.byKey[v.Dests[j].DestKey] = j
			}
		}
	}
}

func (v *service) delDest(j int) {
	v.destLines[j] = 0
	v.deleted++
	if v.byKey != nil {
		delete(v.byKey, v.Dests[j].DestKey)
	}
}

func (p *parser) problem(line int, format string, args ...any) {
	p.errs = append(p.errs, &ParseError{Name: p.name, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// apply replays one command line; r is scratch space.
func (p *parser) apply(r *rule, args []string, line int) error {
	if err := r.parse(args); err != nil {
		return err
	}
	if r.cmd == "C" {
		p.services = p.services[:0]
		clear(p.index)
		p.lastIdx = -1
		return nil
	}
	if !r.hasSvc {
		return fmt.Errorf("-%s needs a service (-t, -u, --sctp-service or -f)", r.cmd)
	}
	k := r.svc.ServiceKey
	var i int
	var exists bool
	if p.lastIdx >= 0 && k == p.last {
		i, exists = p.lastIdx, true
	} else {
		i, exists = p.index[k]
	}
	switch r.cmd {
	case "A":
		if exists {
			return fmt.Errorf("service %s already exists", k)
		}
		p.index[k] = len(p.services)
		p.last, p.lastIdx = k, len(p.services)
		p.services = append(p.services, service{VirtualServer: model.VirtualServer{Service: r.svc}, line: line})
		return nil
	}
	if !exists {
		return fmt.Errorf("no such service %s", k)
	}
	p.last, p.lastIdx = k, i
	v := &p.services[i]
	switch r.cmd {
	case "E":
		v.Service, v.line = r.svc, line
		return nil
	case "D":
		*v = service{}
		delete(p.index, k)
		p.lastIdx = -1
		return nil
	}
	if !r.hasDest {
		return fmt.Errorf("-%s needs a real server (-r)", r.cmd)
	}
	if r.dest.Port == 0 && !k.IsFWMark() {
		r.dest.Port = k.Port
	}
	j := v.dest(r.dest.DestKey)
	switch {
	case r.cmd == "a" && j >= 0:
		return fmt.Errorf("real server %s already exists in %s", r.dest.DestKey, k)
	case r.cmd != "a" && j < 0:
		return fmt.Errorf("no real server %s in %s", r.dest.DestKey, k)
	case r.cmd == "a":
		v.addDest(r.dest, line)
	case r.cmd == "e":
		v.Dests[j], v.destLines[j] = r.dest, line
	default:
		v.delDest(j)
	}
	return nil
}

// state returns the live services and real servers, in the order they were
// added, and records the problems model validation finds in them.
func (p *parser) state() *model.State {
	st := &model.State{Services: make([]model.VirtualServer, 0, len(p.index))}
	for i := range p.services {
		v := &p.services[i]
		if v.line == 0 {
			continue
		}
		for _, pr := range model.ValidateService(&v.Service) {
			p.problem(v.line, "%v", pr)
		}
		live := v.Dests[:0]
		if v.deleted > 0 {
			live = make([]model.Dest, 0, len(v.Dests)-v.deleted)
		}
		for j := range v.Dests {
			if v.destLines[j] == 0 {
				continue
			}
			for _, pr := range model.ValidateDest(&v.Service, &v.Dests[j]) {
				p.problem(v.destLines[j], "%v", pr)
			}
			live = append(live, v.Dests[j])
		}
		v.Dests = live
		st.Services = append(st.Services, v.VirtualServer)
	}
	return st
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
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			return dst
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		dst = append(dst, s[i:j])
		i = j
	}
}

// command returns the command letter an option names ("-A" and
// "--add-service" are "A"), or "".
func command(a string) string {
	switch a {
	case "-A", "--add-service":
		return "A"
	case "-E", "--edit-service":
		return "E"
	case "-D", "--delete-service":
		return "D"
	case "-a", "--add-server":
		return "a"
	case "-e", "--edit-server":
		return "e"
	case "-d", "--delete-server":
		return "d"
	case "-C", "--clear":
		return "C"
	}
	return ""
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
		if c := command(a); c != "" {
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
				var m uint32
				m, err = model.ParseFWMark(v)
				r.svc.FWMark, r.svc.Family, r.hasSvc = m, model.IPv4, true
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
	return model.ParseAddrPort(v, 0)
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
