package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/check"
	"github.com/luvs-lb/luvs/internal/ipvsadm"
	"github.com/luvs-lb/luvs/internal/luaconf"
	"github.com/luvs-lb/luvs/internal/luasandbox"
	"github.com/luvs-lb/luvs/internal/model"
)

// loadConfig loads a Lua configuration; problems are input errors (exit 2).
// Warnings go to stderr and do not stop the command.
func loadConfig(path string) (*luaconf.Result, error) {
	return loadConfigTo(path, os.Stderr)
}

// loadTimeLimit is --load-time-limit: how long a configuration may run.
var loadTimeLimit = luasandbox.DefaultLimits.Time

// loadLimits are the sandbox's default limits with --load-time-limit.
func loadLimits() luasandbox.Limits {
	lim := luasandbox.DefaultLimits
	lim.Time = loadTimeLimit
	return lim
}

func loadConfigTo(path string, stderr io.Writer) (*luaconf.Result, error) {
	if loadTimeLimit <= 0 {
		return nil, badInput("--load-time-limit must be positive, got %s", loadTimeLimit)
	}
	res, err := luaconf.Load(path, luaconf.Options{Output: stderr, Limits: loadLimits()})
	if err != nil {
		var ps luaconf.Problems
		if errors.As(err, &ps) {
			return nil, inputError{fmt.Errorf("%s: %d problem(s), nothing applied:\n%w", path, len(ps.Errors()), err)}
		}
		return nil, inputError{err}
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, w.Error())
	}
	return res, nil
}

func newCheckCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a Lua configuration and print the table it asks for",
		Long: `Load FILE (and its includes) in the sandbox, check every value, and print the
desired IPVS table with each real server's health checks. Every problem is
reported as file:line:col: message and the exit code is 2; nothing touches
the kernel, so check runs anywhere, without root or IPVS.`,
		Example: `  luvs check /etc/luvs/luvs.lua
  luvs check --json /etc/luvs/luvs.lua | jq '.services[0].servers'
  luvs check /usr/share/doc/luvs/examples/web.lua`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			res, err := loadConfig(args[0])
			if err != nil {
				return err
			}
			defer res.Close()
			if asJSON {
				return configJSON(os.Stdout, res.Config)
			}
			cfg := res.Config
			st := cfg.State()
			nchecks := 0
			for _, s := range cfg.Services {
				for _, rs := range s.Servers {
					nchecks += len(rs.Checks)
				}
				if s.Script != nil {
					nchecks++
				}
			}
			fmt.Printf("%s: OK: %d virtual servers, %d real servers, %d health checks (loaded in %s)\n",
				args[0], len(st.Services), st.DestCount(), nchecks, time.Since(start).Round(time.Millisecond))
			printConfig(os.Stdout, cfg)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the configuration as JSON")
	return cmd
}

// printConfig writes the desired table in ipvsadm's layout, with checks.
func printConfig(w io.Writer, cfg *model.Config) {
	fmt.Fprintln(w, "Prot LocalAddress:Port Scheduler Flags")
	fmt.Fprintln(w, "  -> RemoteAddress:Port           Forward Weight Checks")
	for _, s := range cfg.Services {
		line := ipvsadm.ServiceLine(&s.Service)
		var extra []string
		if s.Name != "" {
			extra = append(extra, "name "+s.Name)
		}
		if s.Quorum > 0 {
			extra = append(extra, fmt.Sprintf("quorum %d", s.Quorum))
		}
		if s.Sorry != nil {
			extra = append(extra, "sorry "+s.Sorry.DestKey.String())
		}
		if s.ECMP {
			extra = append(extra, "ecmp")
		}
		if a := s.Announce; a != nil {
			extra = append(extra, "announce "+describeAnnounce(&s))
		}
		for _, h := range []struct {
			key  string
			hook model.Hook
		}{{"quorum_up", s.QuorumUp}, {"quorum_down", s.QuorumDown}} {
			if !h.hook.IsZero() {
				extra = append(extra, h.key+" "+h.hook.String())
			}
		}
		if len(extra) > 0 {
			line += "  [" + strings.Join(extra, ", ") + "]"
		}
		fmt.Fprintln(w, line)
		for _, rs := range s.Servers {
			checks := "-"
			if len(rs.Checks) > 0 {
				var cs []string
				for _, c := range rs.Checks {
					cs = append(cs, describeCheck(c))
				}
				checks = strings.Join(cs, "; ")
			}
			if rs.OnFail == model.Remove {
				checks += " (on_fail remove)"
			}
			if rs.SlowStart > 0 {
				checks += " (slow_start " + rs.SlowStart.String() + ")"
			}
			if !rs.NotifyUp.IsZero() {
				checks += " (notify_up " + rs.NotifyUp.String() + ")"
			}
			if !rs.NotifyDown.IsZero() {
				checks += " (notify_down " + rs.NotifyDown.String() + ")"
			}
			fmt.Fprintf(w, "  -> %-28s %-7s %-6d %s\n", ipvsadm.DestName(&rs.Dest), rs.Forward, rs.Weight, checks)
		}
		if s.Script != nil {
			fmt.Fprintf(w, "  healthcheck function at %s every %s, timeout %s\n", s.Script.Where, s.Script.Interval, s.Script.Timeout)
		}
	}
	if t := cfg.Timeouts; t != nil {
		fmt.Fprintf(w, "timeouts: %s\n", t)
	}
	for _, d := range cfg.SyncDaemons {
		fmt.Fprintln(w, d)
	}
	if su := cfg.Scripts; su != nil {
		fmt.Fprintf(w, "programs run as user %s", su.User)
		if su.Group != "" {
			fmt.Fprintf(w, ", group %s", su.Group)
		}
		fmt.Fprintln(w)
	}
	if b := cfg.BGP; b != nil {
		fmt.Fprintf(w, "bgp: AS %d, router id %s, shutdown delay %s", b.ASN, b.RouterID, b.ShutdownDelay)
		if b.ListenPort != 0 {
			fmt.Fprintf(w, ", listening on port %d", b.ListenPort)
		}
		fmt.Fprintln(w)
		for _, p := range b.Peers {
			fmt.Fprintf(w, "  peer %s\n", describePeer(p))
		}
	}
	for _, sc := range cfg.Sysctls {
		fmt.Fprintf(w, "sysctl %s = %s (%s)\n", sc.Key, sc.Value, sc.Where)
	}
	for _, v := range cfg.VRRP {
		fmt.Fprintf(w, "vrrp %s\n", describeVRRP(v))
	}
}

// describeVRRP shows a virtual router: VI_1 on eth0 vrid 51 priority 150
// every 1s, 198.18.0.10/32, preempt ...
func describeVRRP(v model.VRRP) string {
	var addrs []string
	for _, a := range v.Addresses {
		addrs = append(addrs, a.String())
	}
	s := fmt.Sprintf("%s on %s vrid %d priority %d every %s: %s", v.Name, v.Interface, v.VRID, v.Priority, v.AdvertInterval, strings.Join(addrs, " "))
	if !v.Preempt {
		s += ", no preempt"
	} else if v.PreemptDelay > 0 {
		s += ", preempt after " + v.PreemptDelay.String()
	}
	if len(v.Peers) > 0 {
		var ps []string
		for _, p := range v.Peers {
			ps = append(ps, p.String())
		}
		s += ", unicast to " + strings.Join(ps, " ")
	}
	if len(v.TrackServices)+len(v.TrackInterfaces) > 0 {
		var ts []string
		for _, k := range v.TrackServices {
			ts = append(ts, k.String())
		}
		ts = append(ts, v.TrackInterfaces...)
		how := "gives the mastership up"
		if v.TrackWeight != 0 {
			how = fmt.Sprintf("priority %+d each", v.TrackWeight)
		}
		s += fmt.Sprintf(", tracks %s (failing: %s)", strings.Join(ts, ", "), how)
	}
	if v.Sync != nil {
		s += fmt.Sprintf(", sync daemon on %s (syncid %d) following the role", v.Sync.Interface, v.Sync.SyncID)
	}
	return s
}

// describeAnnounce is what service s announces and how: 198.18.0.10/32
// communities 65000:100 med 10.
func describeAnnounce(s *model.ServiceConfig) string {
	var parts []string
	for _, p := range s.AnnouncedPrefixes() {
		parts = append(parts, p.String())
	}
	a := s.Announce
	if len(a.Communities) > 0 {
		parts = append(parts, "communities "+strings.Join(a.Communities, " "))
	}
	if a.MED != nil {
		parts = append(parts, fmt.Sprintf("med %d", *a.MED))
	}
	if a.LocalPref != nil {
		parts = append(parts, fmt.Sprintf("local_pref %d", *a.LocalPref))
	}
	if a.NextHop.IsValid() {
		parts = append(parts, "next_hop "+a.NextHop.String())
	}
	return strings.Join(parts, " ")
}

// describePeer shows a BGP peer without its password.
func describePeer(p model.BGPPeer) string {
	s := fmt.Sprintf("%s AS %d", p.Address, p.ASN)
	if p.Port != 0 {
		s += fmt.Sprintf(" port %d", p.Port)
	}
	if p.Source.IsValid() {
		s += " from " + p.Source.String()
	}
	if p.HoldTime > 0 {
		s += " hold " + p.HoldTime.String()
	}
	if p.MultihopTTL > 0 {
		s += fmt.Sprintf(" multihop %d", p.MultihopTTL)
	}
	if p.BFD != nil {
		s += fmt.Sprintf(" bfd %s/%s x%d", p.BFD.MinTx, p.BFD.MinRx, p.BFD.Multiplier)
	}
	if p.Password != "" {
		s += " (password set)"
	}
	return s
}

// describeCheck is the check's kind and its settings that differ from the
// kind's defaults: http path="/healthz" interval="2s".
func describeCheck(c model.Check) string {
	parts := []string{string(c.Kind)}
	for _, f := range check.Settings(c) {
		parts = append(parts, f.String())
	}
	return strings.Join(parts, " ")
}

// checkSettings are the check's non-default settings by key, for JSON.
func checkSettings(c model.Check) map[string]any {
	m := map[string]any{}
	for _, f := range check.Settings(c) {
		m[f.Key] = f.Value
	}
	return m
}

func configJSON(w io.Writer, cfg *model.Config) error {
	type jcheck struct {
		Kind     string         `json:"kind"`
		Settings map[string]any `json:"settings"` // those not at their defaults
		Where    string         `json:"where"`
	}
	type jserver struct {
		Address string `json:"address"`
		Port    uint16 `json:"port"`
		Name    string `json:"name,omitempty"`
		Weight  int    `json:"weight"`
		Forward string `json:"forward"`
		OnFail  string `json:"on_fail"`
		// DrainTimeout and SlowStart are durations ("30s"; slow_start
		// omitted when off).
		DrainTimeout string `json:"drain_timeout"`
		SlowStart    string `json:"slow_start,omitempty"`
		// The hooks: a program as its argv list, a function as
		// "lua function (web.lua:12)".
		NotifyUp   any      `json:"notify_up,omitempty"`
		NotifyDown any      `json:"notify_down,omitempty"`
		Checks     []jcheck `json:"checks"`
		Where      string   `json:"where"`
	}
	type jservice struct {
		Key         string    `json:"key"`
		Name        string    `json:"name,omitempty"`
		Scheduler   string    `json:"scheduler"`
		Flags       string    `json:"flags,omitempty"`
		Persistence uint32    `json:"persistence,omitempty"`
		Quorum      int       `json:"quorum"`
		Sorry       string    `json:"sorry_server,omitempty"`
		Healthcheck string    `json:"healthcheck,omitempty"`
		QuorumUp    any       `json:"quorum_up,omitempty"`
		QuorumDown  any       `json:"quorum_down,omitempty"`
		ECMP        bool      `json:"ecmp,omitempty"`
		Announce    string    `json:"announce,omitempty"`
		Servers     []jserver `json:"servers"`
		Where       string    `json:"where"`
	}
	type jsync struct {
		State     string `json:"state"`
		Interface string `json:"interface"`
		SyncID    uint8  `json:"syncid"`
		MaxLen    uint16 `json:"maxlen,omitempty"`
		Group     string `json:"group,omitempty"`
		Port      uint16 `json:"port,omitempty"`
		TTL       uint8  `json:"ttl,omitempty"`
	}
	type jbgp struct {
		ASN           uint32   `json:"asn"`
		RouterID      string   `json:"router_id"`
		ListenPort    uint16   `json:"listen_port,omitempty"`
		ShutdownDelay string   `json:"shutdown_delay"`
		Peers         []string `json:"peers"` // as luvs check shows them, without passwords
		Where         string   `json:"where"`
	}
	type jsysctl struct {
		Key   string `json:"key"`
		Value string `json:"value"`
		Where string `json:"where"`
	}
	out := struct {
		Services    []jservice      `json:"services"`
		Timeouts    *model.Timeouts `json:"timeouts,omitempty"`
		SyncDaemons []jsync         `json:"sync_daemons,omitempty"`
		BGP         *jbgp           `json:"bgp,omitempty"`
		Sysctls     []jsysctl       `json:"sysctls,omitempty"`
		VRRP        []string        `json:"vrrp,omitempty"`
	}{Services: []jservice{}, Timeouts: cfg.Timeouts}
	for _, v := range cfg.VRRP {
		out.VRRP = append(out.VRRP, describeVRRP(v))
	}
	if b := cfg.BGP; b != nil {
		out.BGP = &jbgp{ASN: b.ASN, RouterID: b.RouterID.String(), ListenPort: b.ListenPort, ShutdownDelay: b.ShutdownDelay.String(), Where: b.Where}
		for _, p := range b.Peers {
			out.BGP.Peers = append(out.BGP.Peers, describePeer(p))
		}
	}
	for _, sc := range cfg.Sysctls {
		out.Sysctls = append(out.Sysctls, jsysctl(sc))
	}
	for _, d := range cfg.SyncDaemons {
		js := jsync{State: d.State.String(), Interface: d.Interface, SyncID: d.SyncID, MaxLen: d.MaxLen, Port: d.Port, TTL: d.TTL}
		if d.Group.IsValid() {
			js.Group = d.Group.String()
		}
		out.SyncDaemons = append(out.SyncDaemons, js)
	}
	for _, s := range cfg.Services {
		js := jservice{Key: s.ServiceKey.String(), Name: s.Name, Scheduler: s.Scheduler,
			Flags: model.SchedFlagNames(s.Scheduler, s.SchedFlags), Quorum: s.Quorum, Where: s.Where, Servers: []jserver{},
			QuorumUp: hookJSON(s.QuorumUp), QuorumDown: hookJSON(s.QuorumDown)}
		if s.Persistent {
			js.Persistence = s.Timeout
		}
		if s.Sorry != nil {
			js.Sorry = s.Sorry.DestKey.String()
		}
		js.ECMP = s.ECMP
		if s.Announce != nil {
			js.Announce = describeAnnounce(&s)
		}
		if s.Script != nil {
			js.Healthcheck = s.Script.Where
		}
		for _, rs := range s.Servers {
			jr := jserver{Address: rs.Addr.String(), Port: rs.Port, Name: rs.Name, Weight: rs.Weight,
				Forward: rs.Forward.String(), OnFail: string(rs.OnFail), Where: rs.Where, Checks: []jcheck{},
				DrainTimeout: rs.DrainTimeout.String(), NotifyUp: hookJSON(rs.NotifyUp), NotifyDown: hookJSON(rs.NotifyDown)}
			if rs.SlowStart > 0 {
				jr.SlowStart = rs.SlowStart.String()
			}
			for _, c := range rs.Checks {
				jc := jcheck{Kind: string(c.Kind), Settings: checkSettings(c), Where: c.Where}
				jr.Checks = append(jr.Checks, jc)
			}
			js.Servers = append(js.Servers, jr)
		}
		out.Services = append(out.Services, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// hookJSON is a hook for luvs check --json: a program's argv list, a
// function's "lua function (web.lua:12)", nil for none.
func hookJSON(h model.Hook) any {
	switch {
	case h.Func != "":
		return h.String()
	case h.Argv != nil:
		return h.Argv
	}
	return nil
}

func newApplyCmd() *cobra.Command {
	var dryRun, prune, quiet bool
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Make the kernel table match a Lua configuration once (no daemon)",
		Long: `Load and check FILE like 'luvs check'; if anything is wrong, report it and
change nothing. Otherwise read the kernel table once, compute the difference
and apply it in a few netlink round trips, printing each change (with
--quiet, only the summary). Every real
server is taken as healthy (health checks run only under 'luvs run').
Declared timeouts { ... } and sync_daemon { ... } are set too (a running
sync daemon with other settings is restarted).

Services in the kernel that the configuration does not mention are left
alone unless --prune is given. Applying the same file twice changes nothing.`,
		Example: `  luvs apply --dry-run /etc/luvs/luvs.lua
  luvs apply /etc/luvs/luvs.lua`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			timingStart()
			phase("cli")
			res, err := loadConfig(args[0])
			if err != nil {
				return err
			}
			defer res.Close()
			phase("load")
			st := res.Config.State()
			phase("state")
			if res.Config.BGP != nil && !quiet {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: the bgp declaration is run by luvs run (health-gated announcements); luvs apply announces nothing")
			}
			return syncKernel(st, syncOptions{dryRun: dryRun, deleteOthers: prune, quiet: quiet, globals: res.Config})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the changes without applying them")
	cmd.Flags().BoolVar(&prune, "prune", false, "also delete kernel services the configuration does not mention")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the summary line")
	return cmd
}
