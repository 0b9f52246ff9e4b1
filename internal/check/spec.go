package check

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/value"
)

// Source gives a check's settings as decoded values (see package value:
// string, float64, bool, []any, map[string]any, value.Other). The Lua loader
// adapts its tables to it; tests use a map.
type Source interface {
	// Lookup returns the value of key, nil when unset. With inherit, a key
	// the check does not set may come from the declarations around it
	// (real server, virtual server, defaults).
	Lookup(key string, inherit bool) any
}

// MapSource is a Source without inheritance.
type MapSource map[string]any

// Lookup implements Source.
func (m MapSource) Lookup(key string, _ bool) any { return m[key] }

// Problem is one bad setting. Key names the setting it is about ("" for the
// check as a whole) so that a loader can point at where it is written; Msg
// is the whole message and names the key itself.
type Problem struct {
	Key string
	Msg string
}

func (p Problem) Error() string { return p.Msg }

// Problems are the problems of one check.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Msg
	}
	return strings.Join(msgs, "; ")
}

func (ps *Problems) add(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Setting is one key of a check: its type, default and meaning (as
// docs/config.md lists them), how it is decoded and how it is shown.
type Setting struct {
	Key  string
	Type string // "duration ≥ 100ms", "integer 1..65535", ...
	Doc  string // one line
	// Inherits: looked up in the check, then the real server, the virtual
	// server and defaults. Other keys are read from the check only.
	Inherits bool

	dflt   string // the default as documented, when not the default value itself
	decode func(v any, c *model.Check) error
	show   func(c *model.Check) any // the setting in c, for display; a JSON value
}

// Spec is one kind of check: its settings, their defaults and validation,
// and its prober. Decode and New share the validation, so whatever loads
// also builds.
type Spec struct {
	Kind model.CheckKind
	Doc  string
	// Settings are the kind's own keys; every kind also takes Common.
	Settings []Setting

	part  func(c *model.Check)                   // gives the kind's nil or empty settings their defaults
	build func(c model.Check) (prober, Problems) // validates; c has its part
}

// Common are the settings of every check.
var Common = []Setting{
	durationSetting("interval", "Time between checks.", 100*time.Millisecond, true,
		func(c *model.Check) *time.Duration { return &c.Interval }),
	durationSetting("timeout", "Time limit of one check; not longer than `interval`.", 10*time.Millisecond, true,
		func(c *model.Check) *time.Duration { return &c.Timeout }),
	intSetting("rise", "Successes in a row that bring a server up.", 1, 1000, true,
		func(c *model.Check) *int { return &c.Rise }),
	intSetting("fall", "Failures in a row that take it down.", 1, 1000, true,
		func(c *model.Check) *int { return &c.Fall }),
	durationSetting("retry_delay", "Pause before retrying a failed check within one round; 0 waits for the next interval.", 0, true,
		func(c *model.Check) *time.Duration { return &c.RetryDelay }),
	durationSetting("warmup", "The first check waits a random time up to this (keepalived's `warmup`); 0: up to the interval (at most 1 s), which spreads checks out.", 0, true,
		func(c *model.Check) *time.Duration { return &c.Warmup }).documented("0"),
	addrSetting("source", "Local address network checks connect from (keepalived's `bindto`); it must be on this machine.", "the kernel's choice", true, false,
		func(c *model.Check) *netip.Addr { return &c.Source }),
	addrSetting("addr", "Address to check instead (no port here).", "the real server's", false, true,
		func(c *model.Check) *netip.Addr { return &c.Addr }),
	{
		Key: "port", Type: "integer 1..65535", Doc: "Port to check instead.", dflt: "the real server's",
		decode: func(v any, c *model.Check) error {
			n, err := value.Int("port", v, 1, 65535)
			c.Port = uint16(n)
			return err
		},
		show: func(c *model.Check) any { return int(c.Port) },
	},
}

// specs is the registry, in the order kinds are listed.
var specs = []*Spec{httpSpec, httpsSpec, tcpSpec, udpSpec, dnsSpec, execSpec, pingSpec, smtpSpec, fileSpec}

// Specs returns every kind's spec, in documentation order.
func Specs() []*Spec { return specs }

// SpecFor returns the spec of kind.
func SpecFor(kind model.CheckKind) (*Spec, error) {
	for _, s := range specs {
		if s.Kind == kind {
			return s, nil
		}
	}
	if kind == "" {
		return nil, errors.New("check: no kind")
	}
	return nil, fmt.Errorf("check: unknown kind %q", kind)
}

// All returns the common settings, then the kind's own.
func (s *Spec) All() []Setting { return append(Common[:len(Common):len(Common)], s.Settings...) }

// Keys returns the names of All.
func (s *Spec) Keys() []string {
	var keys []string
	for _, st := range s.All() {
		keys = append(keys, st.Key)
	}
	return keys
}

// Default returns the check of this kind with every setting at its default.
func (s *Spec) Default() model.Check {
	return s.complete(model.Check{Kind: s.Kind})
}

// DefaultText is the setting's default as documented (Markdown): a value
// in backticks, or words such as "none".
func (st Setting) DefaultText(s *Spec) string {
	if st.dflt != "" {
		return st.dflt
	}
	d := s.Default()
	return "`" + showText(st.show(&d)) + "`"
}

// documented returns st with its default documented as dflt.
func (st Setting) documented(dflt string) Setting {
	st.dflt = dflt
	return st
}

// Decode reads a check of kind from src: defaults, then each setting src
// has, then the same validation as New. Every problem names its key.
func Decode(kind model.CheckKind, src Source) (model.Check, error) {
	s, err := SpecFor(kind)
	if err != nil {
		return model.Check{}, err
	}
	c := s.Default()
	var ps Problems
	bad := map[string]bool{}
	for _, st := range s.All() {
		v := src.Lookup(st.Key, st.Inherits)
		if v == nil {
			continue
		}
		if err := st.decode(v, &c); err != nil {
			ps = append(ps, Problem{Key: st.Key, Msg: err.Error()})
			bad[st.Key] = true
		}
	}
	_, vps := s.validate(c)
	for _, p := range vps {
		if !bad[p.Key] { // (a key that did not decode kept its default)
			ps = append(ps, p)
		}
	}
	return c, ps.err()
}

// Validate reports what New would reject in c, as Problems.
func Validate(c model.Check) error {
	s, err := SpecFor(c.Kind)
	if err != nil {
		return err
	}
	_, ps := s.validate(c)
	return ps.err()
}

// complete returns c with its zero interval, timeout, rise and fall and
// its nil kind part (a check built in Go) at their defaults.
func (s *Spec) complete(c model.Check) model.Check {
	c.Interval = cmp.Or(c.Interval, model.DefaultInterval)
	c.Timeout = cmp.Or(c.Timeout, model.DefaultTimeout)
	c.Rise = cmp.Or(c.Rise, model.DefaultRise)
	c.Fall = cmp.Or(c.Fall, model.DefaultFall)
	s.part(&c)
	return c
}

// validate checks the common settings and builds the prober.
func (s *Spec) validate(c model.Check) (prober, Problems) {
	c = s.complete(c)
	var ps Problems
	if c.Timeout > c.Interval {
		ps.add("", "%s check: timeout %s is longer than interval %s", c.Kind, c.Timeout, c.Interval)
	}
	p, bps := s.build(c)
	return p, append(ps, bps...)
}

// Field is a setting and its value, for display.
type Field struct {
	Key   string
	Value any // string, int, bool, []string or map[string]string
}

// Settings returns the settings of c that differ from its kind's defaults,
// in spec order.
func Settings(c model.Check) []Field {
	s, err := SpecFor(c.Kind)
	if err != nil {
		return nil
	}
	c = s.complete(c)
	d := s.Default()
	var out []Field
	for _, st := range s.All() {
		if v := st.show(&c); !reflect.DeepEqual(v, st.show(&d)) {
			out = append(out, Field{Key: st.Key, Value: v})
		}
	}
	return out
}

// String shows the field as key=value.
func (f Field) String() string { return f.Key + "=" + showText(f.Value) }

// showText writes a display value as the configuration would.
func showText(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = strconv.Quote(s)
		}
		return "{ " + strings.Join(q, ", ") + " }"
	case map[string]string:
		if len(v) == 0 {
			return "{}"
		}
		var q []string
		for k, s := range v {
			q = append(q, k+" = "+strconv.Quote(s))
		}
		slices.Sort(q)
		return "{ " + strings.Join(q, ", ") + " }"
	}
	return fmt.Sprint(v)
}

// setting builds a Setting that reads a T with read and stores it at ptr.
func setting[T any](key, typ, doc string, inherits bool, ptr func(*model.Check) *T,
	read func(key string, v any) (T, error), show func(T) any) Setting {
	return Setting{Key: key, Type: typ, Doc: doc, Inherits: inherits,
		decode: func(v any, c *model.Check) error {
			x, err := read(key, v)
			if err == nil {
				*ptr(c) = x
			}
			return err
		},
		show: func(c *model.Check) any { return show(*ptr(c)) },
	}
}

func identity[T any](x T) any { return x }

func durationSetting(key, doc string, min time.Duration, inherits bool, ptr func(*model.Check) *time.Duration) Setting {
	return setting(key, "duration ≥ "+min.String(), doc, inherits, ptr,
		func(key string, v any) (time.Duration, error) { return value.Duration(key, v, min) },
		func(d time.Duration) any { return d.String() })
}

// addrSetting is an IP address (unmapped; with a zone if zones), empty
// when unset.
func addrSetting(key, doc, dflt string, inherits, zones bool, ptr func(*model.Check) *netip.Addr) Setting {
	return setting(key, "IP address string", doc, inherits, ptr,
		func(key string, v any) (netip.Addr, error) {
			s, err := value.String(key, v)
			if err != nil {
				return netip.Addr{}, err
			}
			a, err := netip.ParseAddr(s)
			if err != nil || (!zones && a.Zone() != "") {
				return netip.Addr{}, fmt.Errorf("%s: invalid address %q", key, s)
			}
			return a.Unmap(), nil
		},
		func(a netip.Addr) any {
			if !a.IsValid() {
				return ""
			}
			return a.String()
		}).documented(dflt)
}

func intSetting(key, doc string, lo, hi int, inherits bool, ptr func(*model.Check) *int) Setting {
	return setting(key, fmt.Sprintf("integer %d..%d", lo, hi), doc, inherits, ptr,
		func(key string, v any) (int, error) { return value.Int(key, v, lo, hi) }, identity[int])
}

// stringSetting is a string read from the check itself; dflt documents an
// empty default ("" for the default value).
func stringSetting(key, typ, dflt, doc string, ptr func(*model.Check) *string) Setting {
	return setting(key, typ, doc, false, ptr, value.String, identity[string]).documented(dflt)
}

func boolSetting(key, doc string, ptr func(*model.Check) *bool) Setting {
	return setting(key, "boolean", doc, false, ptr, value.Bool, identity[bool])
}

func bytesSetting(key, dflt, doc string, ptr func(*model.Check) *[]byte) Setting {
	return setting(key, "string", doc, false, ptr,
		func(key string, v any) ([]byte, error) {
			s, err := value.String(key, v)
			return []byte(s), err
		},
		func(b []byte) any { return string(b) }).documented(dflt)
}

func (ps Problems) has(key string) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Key == key })
}

// withDefaults completes a kind's settings *p: def when nil, else a copy
// whose empty fields fill sets from def (the caller's value is not changed).
func withDefaults[T any](p **T, def *T, fill func(v, def *T)) {
	if *p == nil {
		*p = def
		return
	}
	v := **p
	fill(&v, def)
	*p = &v
}
