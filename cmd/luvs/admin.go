package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/model"
)

func newZeroCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "zero [SERVICE]",
		Short: "Reset the counters of one service or of all services",
		Long: `Reset connection, packet and byte counters (ipvsadm -Z). SERVICE is
ADDR:PORT (TCP), udp:ADDR:PORT, sctp:ADDR:PORT, fwmark:N or fwmark6:N.`,
		Example: `  luvs zero
  luvs zero 198.18.0.10:80
  luvs zero udp:[2001:db8::53]:53`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var key *model.ServiceKey
			if len(args) == 1 {
				k, err := model.ParseServiceKey(args[0])
				if err != nil {
					return inputError{err}
				}
				key = &k
			}
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Zero(key)
		},
	}
}

func newFlushCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "flush --yes",
		Short: "Delete every virtual service (like ipvsadm -C)",
		Long: `Delete every virtual service and real server in this network namespace,
including ones luvs does not manage. Traffic to the virtual addresses stops
being balanced at once, so --yes is required.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return badInput("flush deletes every virtual service; add --yes to confirm")
			}
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Flush()
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm deleting everything")
	return cmd
}

func newTimeoutsCmd() *cobra.Command {
	var t model.Timeouts
	cmd := &cobra.Command{
		Use:   "timeouts [--tcp S] [--tcpfin S] [--udp S]",
		Short: "Show or set connection timeouts (like ipvsadm --set / -L --timeout)",
		Long: `Without flags, print the TCP, TCP FIN and UDP connection timeouts in seconds,
as 'ipvsadm -L --timeout' does. With flags, set the given ones.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			if t != (model.Timeouts{}) {
				if err := c.SetTimeouts(t); err != nil {
					return err
				}
			}
			cur, err := c.Timeouts()
			if err != nil {
				return err
			}
			fmt.Printf("Timeout (tcp tcpfin udp): %d %d %d\n", cur.TCP, cur.TCPFin, cur.UDP)
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint32Var(&t.TCP, "tcp", 0, "TCP established timeout in seconds")
	f.Uint32Var(&t.TCPFin, "tcpfin", 0, "TCP FIN-wait timeout in seconds")
	f.Uint32Var(&t.UDP, "udp", 0, "UDP timeout in seconds")
	return cmd
}

func newSyncCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Start, stop and list connection-sync daemons",
		Long: `IPVS can copy its connection table from a master director to backups over
multicast, so a failover does not break established connections.`,
	}
	var (
		d      model.SyncDaemon
		group  string
		asJSON bool
	)
	start := &cobra.Command{
		Use:     "start master|backup --interface IFACE [--syncid N]",
		Short:   "Start a sync daemon (like ipvsadm --start-daemon)",
		Example: "  luvs sync start master --interface eth1 --syncid 7",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := model.ParseSyncState(args[0])
			if err != nil {
				return inputError{err}
			}
			d.State = st
			if d.Interface == "" {
				return badInput("--interface is required")
			}
			if group != "" {
				if d.Group, err = netip.ParseAddr(group); err != nil || !d.Group.IsMulticast() {
					return badInput("--group %q is not a multicast address", group)
				}
			}
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			return c.StartDaemon(d)
		},
	}
	sf := start.Flags()
	sf.StringVar(&d.Interface, "interface", "", "multicast interface")
	sf.Uint8Var(&d.SyncID, "syncid", 0, "sync id (0..255) shared by master and backup")
	sf.Uint16Var(&d.MaxLen, "maxlen", 0, "UDP payload size (0: kernel default)")
	sf.StringVar(&group, "group", "", "multicast group (default 224.0.0.81)")
	sf.Uint16Var(&d.Port, "port", 0, "multicast port (0: 8848)")
	sf.Uint8Var(&d.TTL, "ttl", 0, "multicast TTL (0: 1)")

	stop := &cobra.Command{
		Use:   "stop master|backup",
		Short: "Stop a sync daemon (like ipvsadm --stop-daemon)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := model.ParseSyncState(args[0])
			if err != nil {
				return inputError{err}
			}
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			return c.StopDaemon(st)
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List running sync daemons (like ipvsadm -L --daemon)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			ds, err := c.Daemons()
			if err != nil {
				return err
			}
			if asJSON {
				if ds == nil {
					ds = []model.SyncDaemon{}
				}
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ds)
			}
			for _, d := range ds {
				// The layout of ipvsadm -L --daemon.
				fmt.Printf("%s sync daemon (mcast=%s, syncid=%d", d.State, d.Interface, d.SyncID)
				if d.Group.IsValid() {
					fmt.Printf(", maxlen=%d, group=%s, port=%d, ttl=%d", d.MaxLen, d.Group, d.Port, d.TTL)
				}
				fmt.Println(")")
			}
			return nil
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(start, stop, list)
	return cmd
}
