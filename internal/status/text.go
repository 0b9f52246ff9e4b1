package status

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Text renders the status for people: the daemon's line, the last reload,
// the overrides in force, then one block per service with a row per real
// server (weight in the file → in the kernel, state, active/inactive
// connections, why).
func (s Status) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "luvs %s pid %d, config %s, state %s\n", s.Version, s.PID, s.Config, s.StateDir)
	if r := s.LastReload; r != nil {
		result := "applied"
		if r.Error != "" {
			result = "rejected: " + firstLine(r.Error)
		}
		fmt.Fprintf(&b, "last reload %s (%s): %s\n", r.At, r.Trigger, result)
	}
	fmt.Fprintf(&b, "%d changes applied, %d failed, %d repairs, %d kernel table reads\n", s.OpsApplied, s.OpsFailed, s.Repairs, s.TableReads)
	if len(s.Overrides) > 0 {
		b.WriteString("\noverrides (luvs server ...):\n")
		for _, o := range s.Overrides {
			fmt.Fprintf(&b, "  %s\n", o)
		}
	}
	if len(s.VRRP) > 0 {
		b.WriteString("\nvrrp:\n")
		tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tINTERFACE\tVRID\tSTATE\tPRIORITY\tMASTER\tADDRESSES\tDETAIL")
		for _, v := range s.VRRP {
			prio := strconv.Itoa(int(v.Priority))
			if v.Priority != v.Base {
				prio = fmt.Sprintf("%d → %d", v.Base, v.Priority)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.Interface, v.VRID, v.State, prio, dash(v.Master), strings.Join(v.Addresses, " "), dash(v.Reason))
		}
		tw.Flush()
	}
	if g := s.BGP; g != nil {
		fmt.Fprintf(&b, "\nbgp: AS %d, router id %s\n", g.ASN, g.RouterID)
		tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  PEER\tASN\tSTATE\tSINCE\tBFD\tDETAIL")
		for _, p := range g.Peers {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", p.Address, p.ASN, p.State, dash(p.Since), dash(p.BFD), dash(p.Reason))
		}
		fmt.Fprintln(tw, "  PREFIX\tANNOUNCED\tSERVICES\t\t\tDETAIL")
		for _, a := range g.Announcements {
			yes := "no"
			if a.Announced {
				yes = "yes"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t\t\t%s\n", a.Prefix, yes, strings.Join(a.Services, ", "), dash(a.Reason))
		}
		tw.Flush()
	}
	for _, sv := range s.Services {
		title := sv.Service
		if sv.Name != "" {
			title += " (" + sv.Name + ")"
		}
		state := sv.State
		switch state {
		case "quorum_lost":
			state = "QUORUM LOST"
		case "sorry_server":
			state = "QUORUM LOST, sorry server active"
		}
		fmt.Fprintf(&b, "\n%s  %s  %d active, %d inactive connections (%d/s)\n", title, state, sv.Active, sv.Inactive, sv.Rates.Connections)
		tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  SERVER\tNAME\tWEIGHT\tSTATE\tCONNS\tDETAIL")
		for _, v := range sv.Servers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d/%d\t%s\n", v.Server, dash(v.Name), weights(v.Weight, v.KernelWeight), v.State,
				v.Active, v.Inactive, detail(v))
		}
		tw.Flush()
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// weights renders "3" when the kernel has the file's weight, else "3 → 0"
// ("-" for a side that has none).
func weights(file, kernel int) string {
	w := func(n int) string {
		if n < 0 {
			return "-"
		}
		return fmt.Sprint(n)
	}
	if file == kernel {
		return w(file)
	}
	return w(file) + " → " + w(kernel)
}

func detail(v ServerStatus) string {
	var parts []string
	if v.Reason != "" {
		parts = append(parts, v.Reason)
	}
	if v.CheckWeight != nil {
		parts = append(parts, fmt.Sprintf("check weight %d", *v.CheckWeight))
	}
	if v.DrainDeadline != "" {
		c := "connections not counted yet"
		if v.Connections != nil {
			c = fmt.Sprintf("%d connections", *v.Connections)
		}
		parts = append(parts, fmt.Sprintf("draining until %s, %s", v.DrainDeadline, c))
	}
	if v.SlowStartSince != "" {
		parts = append(parts, "slow start since "+v.SlowStartSince)
	}
	parts = append(parts, v.Overrides...)
	return strings.Join(parts, "; ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
