package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/ipvsadm"
)

// newImportIPVSadmCmd is `luvs import ipvsadm FILE`.
func newImportIPVSadmCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "ipvsadm FILE",
		Short: "Turn ipvsadm rules (ipvsadm -S output) into a luvs configuration",
		Long: `Read ipvsadm rules (ipvsadm -S output, or any -A/-E/-D/-a/-e/-d/-C commands as
'ipvsadm -R' reads them; FILE '-' is standard input), replay them on an
empty table, and write that table as a luvs configuration: one virtual_server
per service with its scheduler, flags, persistence, netmask, persistence
engine and one-packet scheduling, and one real_server per real server with
its weight, forwarding method, tunnel settings and thresholds. Keys at
their default are left out, except the scheduler and the forwarding method.

'luvs apply' of the result asks for exactly the table 'luvs restore' of the
rules asks for. It has no health checks: add them (see 'luvs check' and the
configuration language's documentation) before running it under 'luvs run'.

A problem in the rules is reported as FILE:LINE: message, every one of
them, and nothing is written.`,
		Example: `  ipvsadm -Sn > rules && luvs import ipvsadm rules -o lb.lua && luvs check lb.lua
  ipvsadm -Sn | luvs import ipvsadm -`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, r := "<stdin>", io.Reader(os.Stdin)
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return badInput("%v", err)
				}
				defer f.Close()
				name, r = args[0], f
			}
			st, err := ipvsadm.Parse(name, r)
			if err != nil {
				var es ipvsadm.Errors
				if errors.As(err, &es) {
					return inputError{fmt.Errorf("%s: %d problem(s), nothing written:\n%w", name, len(es), err)}
				}
				return inputError{err}
			}
			var b bytes.Buffer
			if err := ipvsadm.WriteLua(&b, st, name); err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := os.Stdout.Write(b.Bytes())
				return err
			}
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				return badInput("%v", err)
			}
			fmt.Fprintf(os.Stderr, "%s: %d virtual server(s), %d real server(s)\n", out, len(st.Services), st.DestCount())
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the configuration to this file instead of standard output")
	return cmd
}
