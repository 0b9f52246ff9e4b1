package model

import (
	"fmt"
	"strings"
)

// Schedulers lists the IPVS scheduling algorithms of Linux 6.x with a short
// description. Whether one is usable depends on the kernel's ip_vs_<name> module.
var Schedulers = []struct{ Name, Description string }{
	{"rr", "round robin"},
	{"wrr", "weighted round robin"},
	{"lc", "least connection"},
	{"wlc", "weighted least connection"},
	{"lblc", "locality-based least connection"},
	{"lblcr", "locality-based least connection with replication"},
	{"dh", "destination hashing"},
	{"sh", "source hashing"},
	{"sed", "shortest expected delay"},
	{"nq", "never queue"},
	{"mh", "maglev hashing"},
	{"fo", "weighted failover"},
	{"ovf", "weighted overflow"},
	{"twos", "weighted random twos choice"},
}

// KnownScheduler reports whether name is one of Schedulers.
func KnownScheduler(name string) bool {
	for _, s := range Schedulers {
		if s.Name == name {
			return true
		}
	}
	return false
}

// SchedulerNames returns the scheduler names, comma separated.
func SchedulerNames() string {
	names := make([]string, len(Schedulers))
	for i, s := range Schedulers {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// schedFlagNames are the names ipvsadm uses for SchedFlag1..3, per scheduler.
func schedFlagNames(sched string) [3]string {
	switch sched {
	case "sh":
		return [3]string{"sh-fallback", "sh-port", "flag-3"}
	case "mh":
		return [3]string{"mh-fallback", "mh-port", "flag-3"}
	}
	return [3]string{"flag-1", "flag-2", "flag-3"}
}

// SchedFlagNames renders scheduler flags as ipvsadm does ("sh-fallback,sh-port").
func SchedFlagNames(sched string, flags uint32) string {
	names := schedFlagNames(sched)
	var out []string
	for i, bit := range []uint32{SchedFlag1, SchedFlag2, SchedFlag3} {
		if flags&bit != 0 {
			out = append(out, names[i])
		}
	}
	return strings.Join(out, ",")
}

// ParseSchedFlag converts one scheduler flag name to its bit. It accepts the
// generic names flag-1..flag-3, the sh-/mh- names, and the short forms
// "fallback" and "port" for sh and mh.
func ParseSchedFlag(sched, name string) (uint32, error) {
	bits := []uint32{SchedFlag1, SchedFlag2, SchedFlag3}
	n := strings.ToLower(name)
	for i, known := range schedFlagNames(sched) {
		if n == known || n == fmt.Sprintf("flag-%d", i+1) {
			return bits[i], nil
		}
	}
	if sched == "sh" || sched == "mh" {
		switch n {
		case "fallback":
			return SchedFlag1, nil
		case "port":
			return SchedFlag2, nil
		}
	}
	return 0, fmt.Errorf("unknown scheduler flag %q for scheduler %q", name, sched)
}
