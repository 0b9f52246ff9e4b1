package ipvsadm

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// Defaults ipvsadm applies when a rule leaves a field out.
const (
	DefaultScheduler = "wlc"
	// DefaultPersistence is the timeout of -p without a value: 360 s in
	// ipvsadm's code (its manual says 300).
	DefaultPersistence = 360
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
	res, err := Replay(name, r, nil)
	if err != nil {
		return nil, err
	}
	return res.State, nil
}

// Restore is the outcome of replaying rules on a table.
type Restore struct {
	// State holds the services the rules mention (add, edit, or add or
	// edit a real server of), as they are after the last line, in the order
	// they were first mentioned. Services of the base table the rules never
	// mention are not in it: ipvsadm -R leaves them alone.
	State *model.State
	// Deleted are services of the base table that a -D removed (and the
	// rules did not add again).
	Deleted map[model.ServiceKey]bool
	// Cleared is set when a -C removed the whole base table: then every
	// service of the base table not in State is gone.
	Cleared bool
}

// Owned reports whether a service of the base table absent from State is
// to be deleted.
func (r *Restore) Owned(k model.ServiceKey) bool { return r.Cleared || r.Deleted[k] }

// Replay reads ipvsadm rules like Parse, but replays them on base (the
// kernel's table; nil for an empty one) the way `ipvsadm -R` replays them on
// the kernel: -E, -D, -a, -e and -d may name services of base. Where ipvsadm
// would fail because an object of base already exists, Replay takes the
// rules as the definition instead, so that restoring the same rules twice
// changes nothing: an -A of a service of base (not yet mentioned) replaces
// it with no real servers, and an -a of a real server of base (not yet
// mentioned) replaces it. Validation covers what the rules mention.
func Replay(name string, r io.Reader, base *model.State) (*Restore, error) {
	p := &parser{name: name, index: map[model.ServiceKey]int{}, lastIdx: -1}
	if base != nil {
		p.load(base)
	}
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
			if len(fields) == 0 {
				p.problem(line, "no command (-A, -E, -D, -a, -e, -d or -C)")
			} else if err := p.apply(&ru, fields, line); err != nil {
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
	res := &Restore{State: st, Cleared: p.cleared, Deleted: p.deleted}
	for i := range st.Services {
		delete(res.Deleted, st.Services[i].ServiceKey)
	}
	return res, nil
}

// load puts the services of base in the table, unmentioned.
func (p *parser) load(base *model.State) {
	for i := range base.Services {
		b := &base.Services[i]
		if _, dup := p.index[b.ServiceKey]; dup {
			continue
		}
		v := service{VirtualServer: model.VirtualServer{Service: b.Service}, line: -1, base: true}
		for _, d := range b.Dests {
			v.addDest(d, -1)
		}
		p.index[b.ServiceKey] = len(p.services)
		p.services = append(p.services, v)
	}
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
	// deleted are services of the base table removed by -D; cleared is
	// set by a -C.
	deleted map[model.ServiceKey]bool
	cleared bool
}

type service struct {
	model.VirtualServer
	// line is that of the last -A or -E (or of the first mention of a
	// service of the base table); 0 once deleted; -1 for a service of the
	// base table the rules have not mentioned.
	line int
	// destLines are the lines of each real server's last -a or -e; 0 once
	// deleted; -1 for one of the base table not mentioned.
	destLines []int
	base      bool // from the base table, not (yet) added by the rules
	deleted   int  // real servers deleted
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
		for i := range p.services {
			if p.services[i].base {
				p.cleared = true
				break
			}
		}
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
		if exists && p.services[i].line >= 0 {
			return fmt.Errorf("service %s already exists", k)
		}
		if exists {
			// A service of the base table: the rules define it from here.
			p.services[i] = service{VirtualServer: model.VirtualServer{Service: r.svc}, line: line, base: true}
			p.last, p.lastIdx = k, i
			return nil
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
	if v.line < 0 {
		v.line = line // mentioned from here
	}
	switch r.cmd {
	case "E":
		v.Service, v.line = r.svc, line
		return nil
	case "D":
		if v.base {
			if p.deleted == nil {
				p.deleted = map[model.ServiceKey]bool{}
			}
			p.deleted[k] = true
		}
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
	case r.cmd == "a" && j >= 0 && v.destLines[j] < 0:
		v.Dests[j], v.destLines[j] = r.dest, line // one of the base table: the rules define it
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
		if v.line <= 0 {
			continue // deleted, or of the base table and never mentioned
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
			if v.destLines[j] > 0 {
				for _, pr := range model.ValidateDest(&v.Service, &v.Dests[j]) {
					p.problem(v.destLines[j], "%v", pr)
				}
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

// commandName is ipvsadm's name of a command, for its messages.
var commandName = map[string]string{
	"A": "add-service", "E": "edit-service", "D": "delete-service", "C": "flush",
	"a": "add-server", "e": "edit-server", "d": "delete-server",
}

// An option, as ipvsadm counts them: each may be given once, and each
// command takes some of them.
type option uint32

const (
	optService option = 1 << iota
	optScheduler
	optPersistent
	optNetmask
	optRealServer
	optForward
	optWeight
	optUThreshold
	optLThreshold
	optIPv6
	optOps
	optPE
	optSchedFlags
	optTunType
	optTunPort
	optTunNoCsum
	optTunCsum
	optTunRemCsum
)

var optionNames = [...]string{"service-address", "scheduler", "persistent", "netmask", "real-server",
	"forwarding-method", "weight", "u-threshold", "l-threshold", "ipv6", "ops", "pe", "sched-flags",
	"tun-type", "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum"}

func (o option) String() string {
	for i := range optionNames {
		if o == 1<<i {
			return optionNames[i]
		}
	}
	return "?"
}

// allowed are the options each command takes, as in ipvsadm.
var allowed = map[string]option{
	"A": optService | optScheduler | optPersistent | optNetmask | optIPv6 | optOps | optPE | optSchedFlags,
	"D": optService | optIPv6,
	"C": 0,
	"a": optService | optRealServer | optForward | optWeight | optUThreshold | optLThreshold | optIPv6 |
		optTunType | optTunPort | optTunNoCsum | optTunCsum | optTunRemCsum,
	"d": optService | optRealServer | optIPv6,
}

func init() {
	allowed["E"], allowed["e"] = allowed["A"], allowed["a"]
}

// shortWithValue are the one-letter options that take a value (-p takes
// an optional one).
const shortWithValue = "tufsMbrwxyp"

// shortFlags are the one-letter commands and options that take none.
const shortFlags = "AEDaedCgimo6"

// expandArgs rewrites ipvsadm's other spellings to one option per field,
// as popt reads them: "--scheduler=wrr" is "--scheduler wrr", "-At" is
// "-A -t" and "-t198.18.0.10:80" is "-t 198.18.0.10:80". args is returned
// as it is when it has none (the usual case, without allocating).
func expandArgs(args []string) []string {
	plain := true
	for _, a := range args {
		if (len(a) > 2 && a[0] == '-' && a[1] != '-') || (strings.HasPrefix(a, "--") && strings.Contains(a, "=")) {
			plain = false
			break
		}
	}
	if plain {
		return args
	}
	out := make([]string, 0, 2*len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--"):
			if k, v, ok := strings.Cut(a, "="); ok {
				out = append(out, k, v)
			} else {
				out = append(out, a)
			}
		case len(a) > 2 && a[0] == '-' && !isNumber(a[1:]):
			// A cluster of flags, the last of which may take the rest as
			// its value: -At, -Ln, -t198.18.0.10:80, -p60.
			for j := 1; j < len(a); j++ {
				c := a[j]
				if strings.IndexByte(shortWithValue, c) >= 0 {
					out = append(out, "-"+string(c))
					if j+1 < len(a) {
						out = append(out, a[j+1:])
					}
					break
				}
				if strings.IndexByte(shortFlags, c) < 0 {
					out = append(out, a) // unknown: reported as it was written
					break
				}
				out = append(out, "-"+string(c))
			}
		default:
			out = append(out, a)
		}
	}
	return out
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// parse fills r from one command line, with ipvsadm's defaults.
func (r *rule) parse(args []string) error {
	*r = rule{}
	r.svc.Scheduler = DefaultScheduler
	r.dest.Weight = 1
	r.dest.Forward = model.DirectRoute
	args = expandArgs(args)
	ipv6Mark := false
	var mask, schedFlags string
	var seen option
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
		var opt option
		switch a {
		case "-t", "--tcp-service", "-u", "--udp-service", "--sctp-service":
			opt = optService
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
			opt = optService
			if v, err = value(); err == nil {
				var m uint32
				m, err = model.ParseFWMark(v)
				r.svc.FWMark, r.svc.Family, r.hasSvc = m, model.IPv4, true
			}
		case "-6", "--ipv6":
			opt = optIPv6
			ipv6Mark = true
		case "-s", "--scheduler":
			opt = optScheduler
			r.svc.Scheduler, err = value()
		case "-p", "--persistent":
			opt = optPersistent
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
			opt = optNetmask
			mask, err = value()
		case "-b", "--sched-flags":
			opt = optSchedFlags
			schedFlags, err = value()
		case "-o", "--ops":
			opt = optOps
			r.svc.OnePacket = true
		case "--pe":
			opt = optPE
			r.svc.PEName, err = value()
		case "-r", "--real-server":
			opt = optRealServer
			if v, err = value(); err == nil {
				err = r.setDestAddr(v)
			}
		case "-g", "--gatewaying":
			opt = optForward
			r.dest.Forward = model.DirectRoute
		case "-i", "--ipip":
			opt = optForward
			r.dest.Forward = model.Tunnel
		case "-m", "--masquerading":
			opt = optForward
			r.dest.Forward = model.Masquerade
		case "-w", "--weight":
			opt = optWeight
			r.dest.Weight, err = intValue(a, value, 0, model.MaxWeight)
		case "-x", "--u-threshold":
			opt = optUThreshold
			var n int
			n, err = intValue(a, value, 0, 1<<31-1)
			r.dest.UpperThreshold = uint32(n)
		case "-y", "--l-threshold":
			opt = optLThreshold
			var n int
			n, err = intValue(a, value, 0, 1<<31-1)
			r.dest.LowerThreshold = uint32(n)
		case "--tun-type":
			opt = optTunType
			if v, err = value(); err == nil {
				r.dest.TunnelType, err = model.ParseTunnelType(v)
			}
		case "--tun-port":
			opt = optTunPort
			var n int
			n, err = intValue(a, value, 1, 65535)
			r.dest.TunnelPort = uint16(n)
		case "--tun-nocsum":
			opt = optTunNoCsum
			r.dest.TunnelFlags = 0
		case "--tun-csum":
			opt = optTunCsum
			r.dest.TunnelFlags = model.TunnelCsum
		case "--tun-remcsum":
			opt = optTunRemCsum
			r.dest.TunnelFlags = model.TunnelRemCsum
		default:
			return fmt.Errorf("unknown option %q", a)
		}
		if err != nil {
			return err
		}
		if seen&opt != 0 {
			return fmt.Errorf("multiple '%s' options specified", opt)
		}
		seen |= opt
	}
	if r.cmd == "" {
		return fmt.Errorf("no command (-A, -E, -D, -a, -e, -d or -C)")
	}
	if bad := seen &^ allowed[r.cmd]; bad != 0 {
		for o := option(1); o != 0; o <<= 1 {
			if bad&o != 0 {
				return fmt.Errorf("illegal '%s' option with the '%s' command", o, commandName[r.cmd])
			}
		}
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
		// ipvsadm accepts a netmask without -p; it means nothing then and
		// -S does not show it.
		if r.svc.Persistent {
			r.svc.NetmaskBits = bits
		}
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
	ap, err := parseHostPort(v, proto)
	if err != nil {
		return fmt.Errorf("invalid service address %q: %v", v, err)
	}
	r.svc.Protocol, r.svc.Addr, r.svc.Port = proto, ap.Addr(), ap.Port()
	r.svc.Family = model.FamilyOf(ap.Addr())
	r.hasSvc = true
	return nil
}

func (r *rule) setDestAddr(v string) error {
	ap, err := parseHostPort(v, r.svc.Protocol)
	if err != nil {
		return fmt.Errorf("invalid real server address %q: %v", v, err)
	}
	r.dest.Addr, r.dest.Port = ap.Addr(), ap.Port()
	r.hasDest = true
	return nil
}

// parseHostPort accepts "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:80" and a
// bare IPv6 address; a missing port is 0. A port may be a service name
// ("198.18.0.10:http", as ipvsadm -S without -n prints them), looked up in
// /etc/services for the protocol (TCP's entry for SCTP). Host names are
// not resolved.
func parseHostPort(v string, proto model.Protocol) (netip.AddrPort, error) {
	if i := strings.LastIndexByte(v, ':'); i >= 0 && i+1 < len(v) && isPortName(v[i+1:]) &&
		(strings.HasPrefix(v, "[") && v[i-1] == ']' || strings.Count(v, ":") == 1) {
		network := "tcp"
		if proto == model.UDP {
			network = "udp"
		}
		port, err := net.LookupPort(network, v[i+1:])
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("unknown service name %q (no %s entry in /etc/services)", v[i+1:], network)
		}
		v = v[:i+1] + strconv.Itoa(port)
	}
	return model.ParseAddrPort(v, 0)
}

// isPortName reports whether s looks like a service name: letters, digits,
// '-' and '_', with a letter first.
func isPortName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
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
