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
	return syncKernelWith(o, func(*model.State) (*model.State, func(model.ServiceKey) bool, error) {
		return desired, nil, nil
	})
}

// syncKernelWith is syncKernel with the desired table computed from the
// kernel's by build, which may also name kernel services to delete (owned;
// nil: those of deleteOthers). When the kernel cannot be reached, build is
// called with nil so that its input errors are reported first.
func syncKernelWith(o syncOptions, build func(actual *model.State) (*model.State, func(model.ServiceKey) bool, error)) error {
	defer timingEnd()
	c, err := openIPVS()
	if err != nil {
		// Without a kernel table, input errors are still worth reporting
		// (as from an empty table): they come first.
		if _, _, berr := build(nil); berr != nil {
			return berr
		}
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
	desired, owned, err := build(actual)
	if err != nil {
		return err
	}
	var opts diff.Options
	switch {
	case o.deleteOthers:
	case owned != nil:
		opts.Owned = owned
	default:
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
	var dryRun, prune, noDelete, quiet bool
	var batch int
	cmd := &cobra.Command{
		Use:   "restore [FILE]",
		Short: "Apply ipvsadm rules to the kernel table (like ipvsadm -R), changing only the difference",
		Long: `Read ipvsadm rules (ipvsadm -S output, or any -A/-E/-D/-a/-e/-d/-C commands,
with short or long options, as 'ipvsadm -R' reads them; ports may be service
names from /etc/services, host names are not resolved) from FILE or standard
input, check all of them, then apply them to the kernel table. Unlike
'ipvsadm -R', it reads the kernel table once, sends only the changes
(services and real servers that already match are left alone, so traffic is
not disturbed), and sends them in a few batched netlink round trips.

The rules are replayed on the kernel's table as ipvsadm -R replays them:
-E, -e, -a, -d and -D may name services that are only in the kernel, -D
deletes one, -C deletes everything. Where ipvsadm would fail because an
object already exists in the kernel, the rules are taken as its definition
instead: an -A of a kernel service replaces it (its real servers are those
the rules add after it), an -a of a kernel real server replaces it. So the
same rules restored twice change nothing.

Like ipvsadm -R, restore never deletes kernel services the rules do not
mention; --prune deletes them, making the kernel table exactly the rules'
(as 'luvs apply --prune' does for a configuration). --no-delete, which
used to ask for what is now the default, is still accepted and does nothing.

Every problem in the rules, including what validation finds in the table
they describe, is reported as FILE:LINE: message ('<stdin>' for standard
input), and nothing is applied.`,
		Example: `  ipvsadm -Sn > rules && luvs restore rules
  ipvsadm -Sn | luvs restore
  luvs restore --dry-run --prune < rules`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			timingStart()
			phase("cli")
			_ = noDelete // the default now
			name, r := "<stdin>", io.Reader(os.Stdin)
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return badInput("%v", err)
				}
				defer f.Close()
				name, r = args[0], f
			}
			return syncKernelWith(syncOptions{dryRun: dryRun, deleteOthers: prune, quiet: quiet, batch: batch},
				func(actual *model.State) (*model.State, func(model.ServiceKey) bool, error) {
					base := actual
					if prune {
						base = nil // the rules alone are the table
					}
					res, err := ipvsadm.Replay(name, r, base)
					phase("parse")
					if err != nil {
						var es ipvsadm.Errors
						if errors.As(err, &es) {
							return nil, nil, inputError{fmt.Errorf("%s: %d problem(s), nothing applied:\n%w", name, len(es), err)}
						}
						return nil, nil, inputError{err}
					}
					return res.State, res.Owned, nil
				})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "print the changes without applying them")
	f.BoolVar(&prune, "prune", false, "also delete kernel services the rules do not mention")
	f.BoolVar(&noDelete, "no-delete", false, "deprecated, does nothing: keeping services the rules do not mention is the default now")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the summary line")
	f.IntVar(&batch, "batch", 0, "at most this many changes per netlink round trip (0: automatic; 1: one at a time)")
	return cmd
}
