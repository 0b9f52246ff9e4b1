package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/ipvsadm"
	"github.com/luvs-lb/luvs/internal/model"
)

func newListCmd() *cobra.Command {
	var (
		stats, rate, thresholds, persist, exact, asJSON, nosort, numeric, conns, ipv6 bool
		tcp, udp, sctp, fwmark                                                        string
	)
	cmd := &cobra.Command{
		Use:     "list [SERVICE]",
		Aliases: []string{"ls"},
		Short:   "Print the kernel's IPVS table or connections like ipvsadm -Ln / -Lnc",
		Long: `Print the live IPVS table in the layout of ipvsadm -Ln (addresses are always
numeric). --stats, --rate, --thresholds and --persistent-conn select the same
columns as ipvsadm; --json prints everything, counters included, for machines.

A SERVICE lists that service only, as 'ipvsadm -Ln -t 198.18.0.10:80' does
(and like ipvsadm, without the version line): written as in a configuration
("198.18.0.10:80" for TCP, "udp:198.18.0.10:53", "sctp:...", "fwmark:7",
"fwmark6:7"), or with ipvsadm's options -t, -u, --sctp-service, -f MARK (and
-6 for an IPv6 fwmark service). A service that does not exist is an error.

-c (--connection) lists the kernel's connection table instead, as
'ipvsadm -Lnc' does: protocol, time to expiry (minutes:seconds), state,
client, virtual and real server addresses, one connection or persistence
template a line; with --persistent-conn also the persistence engine's data;
with --json as JSON (expiry in seconds). It reads /proc/net/ip_vs_conn of the
current network namespace.`,
		Example: `  luvs list
  luvs list --stats --exact
  luvs list 198.18.0.10:80
  luvs list -t 198.18.0.10:80 --rate
  luvs list -f 7 -6
  luvs list -c
  luvs list --json | jq '.services[].dests[].weight'`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_ = numeric // accepted for ipvsadm muscle memory; output is always numeric
			n := 0
			for _, b := range []bool{stats, rate, thresholds, asJSON} {
				if b {
					n++
				}
			}
			if persist && !conns {
				n++
			}
			if n > 1 {
				return badInput("choose one of --stats, --rate, --thresholds, --persistent-conn and --json")
			}
			key, one, err := listedService(args, tcp, udp, sctp, fwmark, ipv6)
			if err != nil {
				return err
			}
			if conns {
				if one {
					return badInput("a service cannot be given with --connection (ipvsadm -Lc lists every connection)")
				}
				if stats || rate || thresholds {
					return badInput("--connection lists connections: --stats, --rate and --thresholds do not apply")
				}
				return listConns(asJSON, persist)
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
			if one {
				var found []ipvs.Service
				for i := range table {
					if table[i].ServiceKey == key {
						found = append(found, table[i])
					}
				}
				if len(found) == 0 {
					return fmt.Errorf("no such service %s", key)
				}
				table = found
			}
			if asJSON {
				return writeJSON(os.Stdout, info, table)
			}
			opt := ipvsadm.ListOptions{Exact: exact, NoSort: nosort, OneService: one}
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
	f.BoolVar(&persist, "persistent-conn", false, "show persistent connection counts (with -c: persistence engine data)")
	f.BoolVar(&exact, "exact", false, "print exact numbers instead of K/M/G abbreviations")
	f.BoolVar(&nosort, "nosort", false, "keep the kernel's order instead of sorting")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVarP(&numeric, "numeric", "n", true, "numeric addresses and ports (always on)")
	f.BoolVarP(&conns, "connection", "c", false, "list connections (like ipvsadm -Lnc)")
	f.StringVarP(&tcp, "tcp-service", "t", "", "list the TCP service ADDR:PORT only")
	f.StringVarP(&udp, "udp-service", "u", "", "list the UDP service ADDR:PORT only")
	f.StringVar(&sctp, "sctp-service", "", "list the SCTP service ADDR:PORT only")
	f.StringVarP(&fwmark, "fwmark-service", "f", "", "list the fwmark service MARK only")
	f.BoolVarP(&ipv6, "ipv6", "6", false, "with -f: the IPv6 fwmark service")
	return cmd
}

// listedService returns the one service a list command names, if any: a
// positional SERVICE or one of ipvsadm's -t/-u/--sctp-service/-f options.
func listedService(args []string, tcp, udp, sctp, fwmark string, ipv6 bool) (model.ServiceKey, bool, error) {
	var spec string
	n := 0
	for _, s := range []string{tcp, udp, sctp, fwmark} {
		if s != "" {
			n++
		}
	}
	if len(args) == 1 {
		n++
		spec = args[0]
	}
	if n > 1 {
		return model.ServiceKey{}, false, badInput("name one service: a SERVICE argument or one of -t, -u, --sctp-service, -f")
	}
	switch {
	case tcp != "":
		spec = "tcp:" + tcp
	case udp != "":
		spec = "udp:" + udp
	case sctp != "":
		spec = "sctp:" + sctp
	case fwmark != "" && ipv6:
		spec = "fwmark6:" + fwmark
	case fwmark != "":
		spec = "fwmark:" + fwmark
	}
	if ipv6 && fwmark == "" {
		return model.ServiceKey{}, false, badInput("-6 goes with -f MARK (an IPv6 fwmark service)")
	}
	if spec == "" {
		return model.ServiceKey{}, false, nil
	}
	k, err := model.ParseServiceKey(spec)
	if err != nil {
		return model.ServiceKey{}, false, badInput("service %q: %v", spec, err)
	}
	return k, true, nil
}

// listConns prints the kernel's connection table like ipvsadm -Lnc.
func listConns(asJSON, persistent bool) error {
	f, err := os.Open(ipvsadm.ConnFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w\n(the ip_vs module is not loaded, or this kernel has no IPVS)", err)
		}
		return err
	}
	defer f.Close()
	conns, err := ipvsadm.ParseConns(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", ipvsadm.ConnFile, err)
	}
	if !asJSON {
		return ipvsadm.ListConns(os.Stdout, conns, persistent)
	}
	type jsonConn struct {
		Protocol string `json:"protocol"`
		Client   string `json:"client"`
		CPort    uint16 `json:"client_port"`
		Virtual  string `json:"virtual"`
		VPort    uint16 `json:"virtual_port"`
		Dest     string `json:"destination"`
		DPort    uint16 `json:"destination_port"`
		State    string `json:"state"`
		Expires  uint32 `json:"expires"`
		PEName   string `json:"pe_name,omitempty"`
		PEData   string `json:"pe_data,omitempty"`
	}
	out := struct {
		Connections []jsonConn `json:"connections"`
	}{Connections: []jsonConn{}}
	for _, c := range conns {
		out.Connections = append(out.Connections, jsonConn{
			Protocol: c.Protocol, Client: c.Client.Addr().String(), CPort: c.Client.Port(),
			Virtual: c.Virtual.Addr().String(), VPort: c.Virtual.Port(),
			Dest: c.Dest.Addr().String(), DPort: c.Dest.Port(),
			State: c.State, Expires: c.Expires, PEName: c.PEName, PEData: c.PEData,
		})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
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
