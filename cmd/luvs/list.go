package main

import (
	"encoding/json"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/ipvsadm"
	"github.com/luvs-lb/luvs/internal/model"
)

func newListCmd() *cobra.Command {
	var (
		stats, rate, thresholds, persist, exact, asJSON, nosort, numeric bool
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "Print the kernel's IPVS table like ipvsadm -Ln",
		Long: `Print the live IPVS table in the layout of ipvsadm -Ln (addresses are always
numeric). --stats, --rate, --thresholds and --persistent-conn select the same
columns as ipvsadm; --json prints everything, counters included, for machines.`,
		Example: `  luvs list
  luvs list --stats --exact
  luvs list --json | jq '.services[].dests[].weight'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_ = numeric // accepted for ipvsadm muscle memory; output is always numeric
			n := 0
			for _, b := range []bool{stats, rate, thresholds, persist, asJSON} {
				if b {
					n++
				}
			}
			if n > 1 {
				return badInput("choose one of --stats, --rate, --thresholds, --persistent-conn and --json")
			}
			timingStart()
			defer timingEnd()
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			phase("open")
			info, err := c.Info()
			if err != nil {
				return err
			}
			table, err := c.Table()
			if err != nil {
				return err
			}
			phase("read")
			defer phase("format")
			if asJSON {
				return writeJSON(os.Stdout, info, table)
			}
			opt := ipvsadm.ListOptions{Exact: exact, NoSort: nosort}
			switch {
			case stats:
				opt.Format = ipvsadm.Stats
			case rate:
				opt.Format = ipvsadm.Rate
			case thresholds:
				opt.Format = ipvsadm.Thresholds
			case persist:
				opt.Format = ipvsadm.PersistentConn
			}
			return ipvsadm.List(os.Stdout, info, table, opt)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&stats, "stats", false, "show counters: connections, packets and bytes")
	f.BoolVar(&rate, "rate", false, "show rates: connections, packets and bytes per second")
	f.BoolVar(&thresholds, "thresholds", false, "show upper and lower connection thresholds")
	f.BoolVar(&persist, "persistent-conn", false, "show persistent connection counts")
	f.BoolVar(&exact, "exact", false, "print exact numbers instead of K/M/G abbreviations")
	f.BoolVar(&nosort, "nosort", false, "keep the kernel's order instead of sorting")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVarP(&numeric, "numeric", "n", true, "numeric addresses and ports (always on)")
	return cmd
}

type jsonDest struct {
	Address        string     `json:"address"`
	Port           uint16     `json:"port"`
	Forward        string     `json:"forward"`
	Weight         int        `json:"weight"`
	UpperThreshold uint32     `json:"upper_threshold"`
	LowerThreshold uint32     `json:"lower_threshold"`
	TunnelType     string     `json:"tunnel_type,omitempty"`
	TunnelPort     uint16     `json:"tunnel_port,omitempty"`
	ActiveConns    uint32     `json:"active_conns"`
	InactiveConns  uint32     `json:"inactive_conns"`
	PersistConns   uint32     `json:"persistent_conns"`
	Stats          ipvs.Stats `json:"stats"`
}

type jsonService struct {
	Key        string     `json:"key"`
	Family     string     `json:"family"`
	Protocol   string     `json:"protocol,omitempty"`
	Address    string     `json:"address,omitempty"`
	Port       uint16     `json:"port,omitempty"`
	FWMark     uint32     `json:"fwmark,omitempty"`
	Scheduler  string     `json:"scheduler"`
	SchedFlags string     `json:"sched_flags,omitempty"`
	Persistent bool       `json:"persistent"`
	Timeout    uint32     `json:"timeout,omitempty"`
	Netmask    int        `json:"netmask,omitempty"`
	OnePacket  bool       `json:"one_packet,omitempty"`
	PE         string     `json:"pe,omitempty"`
	Stats      ipvs.Stats `json:"stats"`
	Dests      []jsonDest `json:"dests"`
}

func writeJSON(w io.Writer, info ipvs.Info, table []ipvs.Service) error {
	out := struct {
		Version     string        `json:"version"`
		ConnTabSize uint32        `json:"conn_tab_size"`
		Services    []jsonService `json:"services"`
	}{Version: info.VersionString(), ConnTabSize: info.ConnTabSize, Services: []jsonService{}}
	for _, s := range table {
		js := jsonService{
			Key: s.ServiceKey.String(), Family: s.Family.String(), FWMark: s.FWMark,
			Scheduler: s.Scheduler, SchedFlags: model.SchedFlagNames(s.Scheduler, s.SchedFlags),
			Persistent: s.Persistent, OnePacket: s.OnePacket, PE: s.PEName, Stats: s.Stats, Dests: []jsonDest{},
		}
		if !s.IsFWMark() {
			js.Protocol, js.Address, js.Port = s.Protocol.String(), s.Addr.String(), s.Port
		}
		if s.Persistent {
			js.Timeout, js.Netmask = s.Timeout, s.Netmask()
		}
		for _, d := range s.Dests {
			jd := jsonDest{
				Address: d.Addr.String(), Port: d.Port, Forward: d.Forward.String(), Weight: d.Weight,
				UpperThreshold: d.UpperThreshold, LowerThreshold: d.LowerThreshold,
				ActiveConns: d.ActiveConns, InactiveConns: d.InactConns, PersistConns: d.PersistConns, Stats: d.Stats,
			}
			if d.Forward == model.Tunnel {
				jd.TunnelType, jd.TunnelPort = d.TunnelType.String(), d.TunnelPort
			}
			js.Dests = append(js.Dests, jd)
		}
		out.Services = append(out.Services, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
