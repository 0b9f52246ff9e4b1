package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/keepalived"
	"github.com/luvs-lb/luvs/internal/kimport"
	"github.com/luvs-lb/luvs/internal/luaconf"
)

// newImportCmd is the parent of the converters from other load balancers'
// configurations.
func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Convert a keepalived.conf or ipvsadm rules to a luvs configuration",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return badInput("%s needs a subcommand (see --help)", cmd.CommandPath())
		},
	}
	cmd.AddCommand(newImportKeepalivedCmd(), newImportIPVSadmCmd())
	return cmd
}

// newImportKeepalivedCmd is `luvs import keepalived FILE`.
func newImportKeepalivedCmd() *cobra.Command {
	var out, keepOut string
	var vrrp bool
	cmd := &cobra.Command{
		Use:   "keepalived FILE",
		Short: "Convert a keepalived.conf (its LVS part) to a luvs Lua configuration",
		Long: `Read keepalived.conf (and its includes) strictly and write the luvs
configuration that does what its virtual_server blocks do, keepalived's
defaults written out. Every problem, and every keepalived setting luvs
cannot do yet, is reported as file:line; then nothing is written (exit 2).
Settings that can be dropped harmlessly are reported as warnings.

The VRRP and other global parts are listed on standard error; they stay
with keepalived: --keepalived-out writes them, without the LVS part, as a
keepalived.conf to keep running next to luvs. With --vrrp the vrrp_instance
blocks become luvs vrrp declarations instead (luvs speaks VRRPv3 only: a
keepalived peer needs vrrp_version 3), an lvs_sync_daemon that follows one
becomes its sync_daemon, and what luvs cannot do is reported. See migrating.md in
/usr/share/doc/luvs (docs/ of the source) for the details.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return importKeepalived(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], out, keepOut, kimport.Options{VRRP: vrrp})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "-", "write the Lua configuration to FILE (- for standard output)")
	cmd.Flags().StringVar(&keepOut, "keepalived-out", "", "write the VRRP and global blocks, for keepalived, to FILE")
	cmd.Flags().BoolVar(&vrrp, "vrrp", false, "translate the vrrp_instance blocks into luvs vrrp declarations (VRRPv3)")
	return cmd
}

func importKeepalived(stdout, stderr io.Writer, file, out, keepOut string, opt kimport.Options) error {
	cfg, err := keepalived.ParseFile(file, keepalived.Options{})
	if err != nil {
		return importErrors(file, err)
	}
	res, err := kimport.ImportWith(cfg, opt)
	if err != nil {
		return importErrors(file, err)
	}
	warnings, err := selfCheck(res.Lua, out)
	if err != nil {
		return badInput("%s: luvs refuses the imported configuration, nothing written (a keepalived setting luvs does not accept, or a bug in the import):\n%v", file, err)
	}
	for _, n := range res.Skipped {
		fmt.Fprintln(stderr, n)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, w)
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "luvs check of the imported configuration:", w)
	}
	if keepOut != "" {
		if err := os.WriteFile(keepOut, []byte(kimport.KeepalivedPart(cfg, res.Translated...)), 0o644); err != nil {
			return err
		}
	}
	if out == "" || out == "-" {
		_, err := io.WriteString(stdout, res.Lua)
		return err
	}
	return os.WriteFile(out, []byte(res.Lua), 0o644)
}

func importErrors(file string, err error) error {
	es := keepalived.AsErrors(err)
	if es == nil {
		return badInput("%v", err)
	}
	return badInput("%s: %d problem(s), nothing written:\n%v", file, len(es), es)
}

// selfCheck loads the generated configuration as luvs check would and
// returns its warnings.
// Positions name the output file (out), or "imported.lua" for standard
// output.
func selfCheck(lua, out string) ([]string, error) {
	shown := out
	if shown == "" || shown == "-" {
		shown = "imported.lua"
	}
	dir, err := os.MkdirTemp("", "luvs-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "imported.lua")
	if err := os.WriteFile(path, []byte(lua), 0o600); err != nil {
		return nil, err
	}
	res, err := luaconf.Load(path, luaconf.Options{})
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), path, shown))
	}
	defer res.Close()
	var ws []string
	for _, w := range res.Warnings {
		ws = append(ws, strings.ReplaceAll(w.Error(), path, shown))
	}
	return ws, nil
}
