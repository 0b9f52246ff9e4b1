package main

import (
	"fmt"
	"os"

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
root, ip, ipvsadm and IPVS; on a machine without IPVS run scripts/bench.`,
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
	cmd.AddCommand(kernel, floor)
	return cmd
}
