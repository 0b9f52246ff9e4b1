package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/daemon"
	"github.com/luvs-lb/luvs/internal/statedir"
)

// stateDir is the --state-dir flag shared by run and the commands that
// change the table.
var stateDir = daemon.DefaultStateDir

// guarded makes a table-changing command refuse while a daemon manages this
// network namespace's table (it would fight the daemon, or delete its
// services), unless --force is given.
func guarded(cmd *cobra.Command) *cobra.Command {
	var force bool
	cmd.Flags().BoolVar(&force, "force", false, "change the table even while 'luvs run' manages it")
	inner := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if dry, _ := c.Flags().GetBool("dry-run"); !force && !dry {
			if err := daemonRunning(); err != nil {
				return err
			}
		}
		return inner(c, args)
	}
	return cmd
}

// daemonRunning returns an error naming the daemon that holds the lock of
// this namespace's table, or nil when none does.
func daemonRunning() error {
	if _, err := os.Stat(stateDir); err != nil {
		return nil // no daemon ever ran with this state directory
	}
	d, err := statedir.Open(stateDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "luvs: warning: cannot tell whether a daemon runs: %v\n", err)
		return nil
	}
	held, err := d.Holder()
	if err != nil {
		fmt.Fprintf(os.Stderr, "luvs: warning: cannot tell whether a daemon runs: %v\n", err)
		return nil
	}
	if held != nil {
		return fmt.Errorf("%v: it manages this table; change its configuration and run 'luvs reload', or use --force", held)
	}
	return nil
}
