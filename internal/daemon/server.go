package daemon

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/override"
)

// ServerRequest is an operator's command on a real server (`luvs server
// ...`), sent on the control socket as "server " + JSON.
type ServerRequest struct {
	// Action is drain, maint, ready, weight, add or remove.
	Action string `json:"action"`
	// Server is ADDR, ADDR:PORT or a server's name (its `name` in the
	// configuration; not for add); Service a service as `luvs list` takes
	// it (empty: every service that has the server).
	Server  string `json:"server"`
	Service string `json:"service,omitempty"`
	// Weight is N or N% for weight ("reset" clears the override) and the
	// weight of an added server.
	Weight string `json:"weight,omitempty"`
}

// Command renders the request for control.Send.
func (r ServerRequest) Command() (string, error) {
	b, err := json.Marshal(r)
	return "server " + string(b), err
}

// serverCommand carries out an operator's command and describes what it
// changed, one line per server.
func (d *Daemon) serverCommand(arg string) (string, error) {
	var r ServerRequest
	dec := json.NewDecoder(strings.NewReader(arg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return "", fmt.Errorf("server command: %w", err)
	}
	t, err := override.ParseTarget(r.Server, r.Service)
	if err != nil && r.Action != "add" {
		t, err = targetByName(r.Server, r.Service, d.engine.View(), err)
	}
	if err != nil {
		return "", err
	}
	var touched []engine.Touched
	switch r.Action {
	case "drain", "maint":
		touched, err = d.engine.SetOverride(override.Override{Kind: override.Kind(r.Action), Target: t})
	case "ready":
		touched, err = d.engine.ClearOverride(override.Drain, t)
	case "weight":
		if r.Weight == "reset" {
			touched, err = d.engine.ClearOverride(override.Weight, t)
			break
		}
		o := override.Override{Kind: override.Weight, Target: t}
		if o.Weight, o.Percent, err = override.ParseWeight(r.Weight); err != nil {
			return "", err
		}
		touched, err = d.engine.SetOverride(o)
	case "add":
		o := override.Override{Kind: override.Add, Target: t, Weight: 1}
		if r.Weight != "" {
			if o.Weight, o.Percent, err = override.ParseWeight(r.Weight); err != nil {
				return "", err
			}
			if o.Percent {
				return "", fmt.Errorf("add: the weight of a new server is a number, not %q", r.Weight)
			}
		}
		touched, err = d.engine.SetOverride(o)
	case "remove":
		touched, err = d.engine.SetOverride(override.Override{Kind: override.Remove, Target: t})
	default:
		return "", fmt.Errorf("server command %q: want drain, maint, ready, weight, add or remove", r.Action)
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, tc := range touched {
		fmt.Fprintf(&b, "%s %s in %s: weight %s\n", r.Action, tc.Name, tc.Service, engine.WeightChange(tc.Before, tc.After))
	}
	if r.Action == "remove" {
		b.WriteString("(a removed server stays at weight 0 until its connections finish or its drain_timeout passes)\n")
	}
	return b.String(), nil
}

// targetByName resolves a server given by its name (the configuration's
// `name`) to the one address:port that carries it, within service when
// given. parseErr is why name is not an address, reported when no server
// has the name. The override is stored by address, as if given so.
func targetByName(name, service string, views []engine.ServiceView, parseErr error) (override.Target, error) {
	var t override.Target
	if service != "" {
		k, err := model.ParseServiceKey(service)
		if err != nil {
			return t, fmt.Errorf("service %q: %w", service, err)
		}
		t.Service = k
	}
	var found []model.DestKey
	names := map[string]bool{}
	for _, sv := range views {
		if !t.AllServices() && sv.Key != t.Service {
			continue
		}
		for _, v := range sv.Servers {
			if v.Name == "" {
				continue
			}
			names[v.Name] = true
			if v.Name == name && !slices.Contains(found, v.Key) {
				found = append(found, v.Key)
			}
		}
	}
	switch len(found) {
	case 0:
		if len(names) == 0 {
			return t, parseErr
		}
		where := "servers"
		if !t.AllServices() {
			where = "servers of " + t.Service.String()
		}
		return t, fmt.Errorf("%w, nor the name of one of the %s (%s)", parseErr, where, strings.Join(slices.Sorted(maps.Keys(names)), ", "))
	case 1:
		t.Addr, t.Port = found[0].Addr, found[0].Port
		return t, nil
	}
	addrs := make([]string, len(found))
	for i, k := range found {
		addrs[i] = k.String()
	}
	slices.Sort(addrs)
	return t, fmt.Errorf("server %q: the name of %s; give the address (or --service)", name, strings.Join(addrs, " and "))
}

// DryRunReload loads and validates the configuration file and describes
// the changes a reload would make, making none.
func (d *Daemon) DryRunReload() (string, error) {
	next, err := d.load()
	if err != nil {
		return "", fmt.Errorf("a reload would be rejected: %w", err)
	}
	defer next.Close()
	ops, err := d.engine.PlanReload(next.Config)
	if err != nil {
		return "", fmt.Errorf("a reload would be rejected: %w", err)
	}
	if len(ops) == 0 {
		return "a reload would change nothing in the table\n", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "a reload would make %d change(s):\n", len(ops))
	for _, op := range ops {
		note := ""
		if op.Kind == model.DelDest {
			note = " (at weight 0 first, until its connections finish or its drain_timeout passes)"
		}
		fmt.Fprintf(&b, "  %s%s\n", op, note)
	}
	return b.String(), nil
}
