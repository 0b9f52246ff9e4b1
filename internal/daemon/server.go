package daemon

import (
	"encoding/json"
	"fmt"
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
	// Server is ADDR or ADDR:PORT; Service a service as `luvs list` takes
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
