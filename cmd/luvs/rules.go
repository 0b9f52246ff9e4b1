package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/globals"
	"github.com/luvs-lb/luvs/internal/ipvsadm"
	"github.com/luvs-lb/luvs/internal/model"
)

// syncOptions tune syncKernel.
type syncOptions struct {
	dryRun       bool // print the plan only
	deleteOthers bool // delete kernel services desired does not have
	quiet        bool // print only the summary
	batch        int  // changes per round trip (0: automatic)
	// globals, if set, holds the timeouts and sync daemons to set too.
	globals *model.Config
}

// syncKernel makes the kernel table equal to desired in one read, one diff
// and a few batched round trips, printing each change and a summary.
func syncKernel(desired *model.State, o syncOptions) error {
	defer timingEnd()
	c, err := openIPVS()
	if err != nil {
		return err
	}
	defer c.Close()
	phase("open")
	c.MaxBatch = o.batch
	actual, err := c.State()
	if err != nil {
		return err
	}
	phase("read")
	var opts diff.Options
	if !o.deleteOthers {
		opts.Owned = func(model.ServiceKey) bool { return false }
	}
	ops := diff.Plan(desired, actual, opts)
	phase("plan")
	if o.dryRun || !o.quiet {
		// One write for the whole plan, not one per change (11,000 lines for
		// a 1,000 x 10 table built from scratch).
		w := bufio.NewWriterSize(os.Stdout, 64<<10)
		for i := range ops {
			w.WriteString(ops[i].String())
			w.WriteByte('\n')
		}
		_ = w.Flush() // as fmt.Println did, a failing stdout does not stop the change
	}
	phase("print")
	if o.dryRun {
		fmt.Printf("%d change(s) planned, none applied (--dry-run)\n", len(ops))
		return applyGlobals(c, o)
	}
	start := time.Now()
	res := c.Apply(ops)
	phase("apply")
	fmt.Printf("%d change(s) applied, %d failed, in %d round trip(s), %s\n",
		res.Applied(), res.Failed(), res.RoundTrips, time.Since(start).Round(time.Microsecond))
	if err := applyGlobals(c, o); err != nil {
		return errors.Join(res.Err(), err)
	}
	return res.Err()
}

// applyGlobals sets the timeouts and sync daemons of o.globals, printing
// each change.
func applyGlobals(p globals.Plane, o syncOptions) error {
	if o.globals == nil {
		return nil
	}
	changes, err := globals.Apply(p, o.globals, nil, o.dryRun)
	for _, ch := range changes {
		if o.dryRun {
			fmt.Printf("would %s\n", ch)
		} else {
			fmt.Println(ch)
		}
	}
	return err
}

func newSaveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "save",
		Short: "Print the kernel table as ipvsadm rules (like ipvsadm -Sn)",
		Long: `Print the live IPVS table as ipvsadm rules, the format of ipvsadm -Sn, which
both 'ipvsadm -R' and 'luvs restore' read back. Connection thresholds, which
ipvsadm -S drops, are kept as -x/-y.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			timingStart()
			defer timingEnd()
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			phase("open")
			table, err := c.Table()
			if err != nil {
				return err
			}
			phase("read")
			defer phase("format")
			return ipvsadm.Save(os.Stdout, table)
		},
	}
}

func newRestoreCmd() *cobra.Command {
	var dryRun, noDelete, quiet bool
	var batch int
	cmd := &cobra.Command{
		Use:   "restore [FILE]",
		Short: "Make the kernel table equal to ipvsadm rules, changing only the difference",
		Long: `Read ipvsadm rules (ipvsadm -S output, or -A/-a/-E/-e/-D/-d/-C commands) from
FILE or standard input, check all of them, then make the kernel table equal
to the result. Unlike 'ipvsadm -R', it reads the kernel table once, sends only
the changes (services and real servers that already match are left alone, so
traffic is not disturbed), and sends them in a few batched netlink round trips.

Every problem in the rules, including what validation finds in the table
they describe, is reported as FILE:LINE: message ('<stdin>' for standard
input), and nothing is applied.
Services in the kernel that the rules do not mention are deleted unless
--no-delete is given.`,
		Example: `  ipvsadm -Sn > rules && luvs restore rules
  luvs restore --dry-run < rules`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			timingStart()
			phase("cli")
			name, r := "<stdin>", io.Reader(os.Stdin)
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return badInput("%v", err)
				}
				defer f.Close()
				name, r = args[0], f
			}
			desired, err := ipvsadm.Parse(name, r)
			phase("parse")
			if err != nil {
				var es ipvsadm.Errors
				if errors.As(err, &es) {
					return inputError{fmt.Errorf("%s: %d problem(s), nothing applied:\n%w", name, len(es), err)}
				}
				return inputError{err}
			}
			return syncKernel(desired, syncOptions{dryRun: dryRun, deleteOthers: !noDelete, quiet: quiet, batch: batch})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "print the changes without applying them")
	f.BoolVar(&noDelete, "no-delete", false, "never delete services the rules do not mention")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the summary line")
	f.IntVar(&batch, "batch", 0, "at most this many changes per netlink round trip (0: automatic; 1: one at a time)")
	return cmd
}
