package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/bench"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure luvs against ipvsadm on this kernel",
	}
	o := bench.KernelOptions{Services: 1000, Dests: 10, Repeat: 7, ApplyRounds: 5}
	kernel := &cobra.Command{
		Use:   "kernel",
		Short: "Apply and list a large table with luvs and with ipvsadm; print a table",
		Long: `Build the same table (--services x --dests NAT real servers, addresses in
198.18.0.0/15) with 'ipvsadm -R', 'luvs restore', 'luvs restore --batch 1',
'luvs apply' (a Lua loop) and the floor (the least work that builds the
table: pre-encoded messages, 4,096 per sendmsg, no table read; run by the
same luvs binary), each in a fresh network namespace, in interleaved rounds;
check that every result is identical to what ipvsadm -R built; then time
listing and saving it with ipvsadm and luvs. Medians are reported, with
the peak memory (RSS) of luvs's runs. Needs
root, ip, ipvsadm and IPVS; on a machine without IPVS, luvs's source tree
runs it in a VM (scripts/bench).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Services < 1 || o.Services > 60000 || o.Dests < 0 || o.Dests > 1000 || o.Repeat < 1 || o.ApplyRounds < 1 {
				return badInput("--services must be 1..60000, --dests 0..1000, --repeat and --rounds at least 1")
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			o.Luvs = exe
			rows, err := bench.Kernel(o, os.Stderr)
			if err != nil {
				return err
			}
			fmt.Println()
			bench.Print(os.Stdout, rows)
			return nil
		},
	}
	f := kernel.Flags()
	f.IntVar(&o.Services, "services", o.Services, "virtual services")
	f.IntVar(&o.Dests, "dests", o.Dests, "real servers per service")
	f.IntVar(&o.Repeat, "repeat", o.Repeat, "runs of each listing; the median is reported")
	f.IntVar(&o.ApplyRounds, "rounds", o.ApplyRounds, "times each tool builds the table from scratch; the median is reported")
	f.BoolVar(&o.Brief, "brief", false, "leave out --batch 1 and the re-applies (for large tables)")
	n, m := 1000, 10
	floor := &cobra.Command{
		Use:    "floor",
		Short:  "Build the benchmark table with the least possible work (the benchmark's floor)",
		Hidden: true,
		Args:   exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 1 || n > 60000 || m < 0 || m > 1000 {
				return badInput("--services must be 1..60000, --dests 0..1000")
			}
			return bench.Floor(n, m)
		},
	}
	floor.Flags().IntVar(&n, "services", n, "virtual services")
	floor.Flags().IntVar(&m, "dests", m, "real servers per service")
	cmd.AddCommand(kernel, floor, newBenchChecksCmd(), newBenchSinkCmd())
	return cmd
}

func newBenchChecksCmd() *cobra.Command {
	o := bench.ChecksOptions{Keepalived: "keepalived", Services: 100, Dests: 10, Warmup: 3 * time.Second, Measure: 10 * time.Second, Rounds: 2}
	workloads := "distinct,same"
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "Run the same TCP health checks with keepalived's checker and luvs run; print their CPU",
		Long: `Build a director and a backend network namespace (every address of
198.19.0.0/16 is local in the backend, where a sink accepts and closes
connections on port 8080), then for each workload run keepalived's checker
(keepalived -C) and then 'luvs run' in the director with the same --services
x --dests NAT real servers, each with a TCP connect check every second
(keepalived: delay_loop 1, connect_timeout 1). After each daemon has
installed the whole table (checked with ipvsadm -Sn, again at the end: every
real server present, none drained) and --warmup has passed, measure over
--measure the CPU time (utime+stime of all of the daemon's processes) and
the connects made (TCP ActiveOpens of the director namespace), in
--rounds alternating rounds, summed (the same workload: one round).

Workloads: "distinct" (services x dests different real servers: one probe
per configured check in both daemons) and "same" (every service on the same
--dests servers: luvs probes each distinct server once and shares the
verdict, keepalived checks each configured real server). CPU per check is
per configured check (services x dests per second). Needs root, ip,
ipvsadm, IPVS and keepalived (--keepalived - to run luvs alone); on a
machine without IPVS, luvs's source tree runs it in a VM (scripts/bench).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Services < 1 || o.Services > 250 || o.Dests < 1 || o.Dests > 250 || o.Measure <= 0 || o.Warmup < 0 || o.Rounds < 1 {
				return badInput("--services must be 1..250, --dests 1..250, --measure above 0, --rounds at least 1")
			}
			o.Workloads = nil
			for _, w := range strings.Split(workloads, ",") {
				if w != "distinct" && w != "same" {
					return badInput("--workloads %q: want distinct, same or both (comma-separated)", workloads)
				}
				o.Workloads = append(o.Workloads, w)
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			o.Luvs = exe
			rows, err := bench.Checks(o, os.Stderr)
			if err != nil {
				return err
			}
			fmt.Println()
			bench.PrintChecks(os.Stdout, rows)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Keepalived, "keepalived", o.Keepalived, "keepalived binary (-: run luvs alone)")
	f.IntVar(&o.Services, "services", o.Services, "virtual services")
	f.IntVar(&o.Dests, "dests", o.Dests, "real servers per service")
	f.DurationVar(&o.Warmup, "warmup", o.Warmup, "time between a daemon's table being complete and the measurement")
	f.DurationVar(&o.Measure, "measure", o.Measure, "how long each daemon is measured in each round")
	f.IntVar(&o.Rounds, "rounds", o.Rounds, "rounds of the distinct workload, alternating the daemons; the table sums them")
	f.StringVar(&workloads, "workloads", workloads, "workloads to run: distinct, same or both")
	f.StringVar(&o.Profile, "luvs-profile", "", "write a CPU profile of each luvs run to FILE.WORKLOAD")
	return cmd
}

func newBenchSinkCmd() *cobra.Command {
	listen := "0.0.0.0:8080"
	cmd := &cobra.Command{
		Use:    "sink",
		Short:  "Accept TCP connections and close them (the backend of 'luvs bench checks')",
		Hidden: true,
		Args:   exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return bench.Sink(listen)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", listen, "IPv4:PORT to listen on")
	return cmd
}
