// Package luaconf loads luvs configurations written in Lua: a declarative DSL
// (virtual_server, real_server, defaults, health checks, include) evaluated
// in a sandbox, turned into a model.Config. Every problem is reported as
// file:line:col: message, and a configuration with any problem is rejected
// whole.
package luaconf

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	suggestpkg "github.com/luvs-lb/luvs/internal/suggest"
)

// Pos is a position in a configuration file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Problem is one error in a configuration, or a warning: something that
// loads but probably does not do what was meant.
type Problem struct {
	Pos     Pos
	Msg     string
	Warning bool // reported, but does not stop the configuration loading
}

func (p Problem) Error() string {
	if p.Warning {
		return p.Pos.String() + ": warning: " + p.Msg
	}
	return p.Pos.String() + ": " + p.Msg
}

// Problems are all the errors found in a configuration, in file order.
// Load's error also lists the warnings among them.
type Problems []Problem

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// sorted orders problems by file, line and column, dropping exact duplicates.
func (ps Problems) sorted() Problems {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return slices.CompactFunc(out, func(a, b Problem) bool { return a == b })
}

// suggest returns ` (did you mean "x"?)` for the known word closest to w,
// or "" when none is close.
// Names longer than maxSuggestLen get no suggestion: the edit distance
// costs the product of the lengths.
func suggest(w string, known []string) string {
	if k, ok := keepalivedNames[w]; ok && slices.Contains(known, k.name) {
		return fmt.Sprintf(" (did you mean %s? keepalived's %s%s)", k.name, w, k.note)
	}
	if len(w) > maxSuggestLen {
		return ""
	}
	return suggestpkg.Hint(w, known)
}

const maxSuggestLen = suggestpkg.MaxLen

// keepalivedNames are keepalived's names for luvs's keys and check
// constructors: a configuration written from keepalived habits gets the
// luvs name (when it is a key or name of the place where it is written).
var keepalivedNames = map[string]struct{ name, note string }{
	"delay_loop":              {"interval", ""},
	"lb_algo":                 {"scheduler", ""},
	"lvs_sched":               {"scheduler", ""},
	"lb_kind":                 {"forward", `; NAT, DR, TUN are "nat", "dr", "tunnel"`},
	"lvs_method":              {"forward", `; NAT, DR, TUN are "nat", "dr", "tunnel"`},
	"persistence_timeout":     {"persistence", `, e.g. persistence = "300s"`},
	"persistence_granularity": {"netmask", ""},
	"persistence_engine":      {"pe", ""},
	"ops":                     {"one_packet", ""},
	"connect_timeout":         {"timeout", ""},
	"connect_port":            {"port", ""},
	"nb_get_retry":            {"fall", "; fall counts failures in a row, keepalived's retries plus one"},
	"retry":                   {"fall", "; fall counts failures in a row, keepalived's retries plus one"},
	"delay_before_retry":      {"retry_delay", ""},
	"inhibit_on_failure":      {"on_fail", `; write on_fail = "drain"`},
	"uthreshold":              {"upper_threshold", ""},
	"lthreshold":              {"lower_threshold", ""},
	"virtualhost":             {"host", ""},
	"status_code":             {"status", ""},
	"HTTP_GET":                {"http", ", as in check = http { ... }"},
	"SSL_GET":                 {"https", ", as in check = https { ... }"},
	"TCP_CHECK":               {"tcp", ", as in check = tcp { ... }"},
	"UDP_CHECK":               {"udp", ", as in check = udp { ... }"},
	"DNS_CHECK":               {"dns", ", as in check = dns { ... }"},
	"MISC_CHECK":              {"exec", ", as in check = exec { ... }"},
	"PING_CHECK":              {"ping", ", as in check = ping { ... }"},
}
