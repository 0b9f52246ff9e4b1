// Command luvs manages Linux IPVS (the kernel's layer-4 load balancer).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/crash"
	"github.com/luvs-lb/luvs/internal/ipvs"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1              // the kernel or the system refused
	exitInput    = 2              // bad command line, config or rules
	exitInternal = crash.ExitCode // a bug: luvs panicked
)

// inputError marks errors caused by bad user input (exit code 2).
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

func badInput(format string, args ...any) error {
	return inputError{fmt.Errorf(format, args...)}
}

var version = "dev"

// oneShotMemory is the heap size at which one-shot commands start collecting.
const oneShotMemory = 256 << 20

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "luvs",
		Short: "Manage Linux IPVS load balancing",
		Long: `luvs manages Linux Virtual Server (IPVS), the kernel's layer-4 load balancer.

Configurations are Lua: 'luvs check' validates one and reports every
problem as file:line:col; 'luvs apply' makes the kernel match it once;
'luvs run' is the daemon that also runs the health checks, repairs drift
and reloads on SIGHUP or 'luvs reload'. 'luvs exec' runs imperative Lua
scripts with the low-level ipvs module.

luvs also speaks ipvsadm: 'list' prints the table, one service or the
connections like ipvsadm -Ln, -Ln -t ... and -Lnc; 'save' and 'restore' use
the ipvsadm -S/-R rule format; 'import ipvsadm' turns rules into a Lua
configuration. Every change is made by reading
the kernel table once, computing the difference, and sending only the changes
in a few netlink round trips.

Kernel commands need root (CAP_NET_ADMIN) and the ip_vs module; 'check'
needs neither. Exit codes: 0 success, 1 the kernel or system refused,
2 bad input (command line, configuration, rules), 3 internal error (a bug
in luvs; the message and stack trace are worth reporting).

Every command has --help and a manual page (man luvs-run, man luvs-check,
...). The configuration language, the daemon and migrating from keepalived
are described in config.md, daemon.md and migrating.md, with example
configurations, in /usr/share/doc/luvs (docs/ and examples/ of the source).`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentPreRun = func(cmd *cobra.Command, args []string) {
		// One-shot commands allocate a table's worth of memory and exit:
		// they run without the garbage collector until the heap reaches
		// oneShotMemory (1,000 x 10 services allocate 6-30 MiB). The daemon
		// keeps the default; exec, which runs scripts of any length, only
		// collects less often.
		switch cmd.Name() {
		case "run":
		case "exec":
			debug.SetGCPercent(400)
		default:
			debug.SetGCPercent(-1)
			debug.SetMemoryLimit(oneShotMemory)
		}
	}
	// --profile FILE (hidden): a CPU profile of the command, for finding
	// where a one-shot command's time goes (see also LUVS_TIMING=1).
	var profile string
	var profileFile *os.File
	root.PersistentFlags().StringVar(&profile, "profile", "", "write a CPU profile of the command to FILE")
	_ = root.PersistentFlags().MarkHidden("profile")
	pre := root.PersistentPreRun
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		pre(cmd, args)
		if profile == "" {
			return nil
		}
		f, err := os.Create(profile)
		if err != nil {
			return badInput("--profile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--profile: %w", err)
		}
		profileFile = f
		return nil
	}
	root.PersistentPreRun = nil
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if profileFile != nil {
			pprof.StopCPUProfile()
			profileFile.Close()
		}
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return inputError{fmt.Errorf("%w\nRun '%s --help' for usage", err, c.CommandPath())}
	})
	root.PersistentFlags().StringVar(&stateDir, "state-dir", stateDir,
		"where 'luvs run' keeps its lock and the services it manages (per network namespace)")
	root.PersistentFlags().DurationVar(&loadTimeLimit, "load-time-limit", loadTimeLimit,
		"how long a Lua configuration may run while it loads (check, apply, run and its reloads)")
	root.AddCommand(newRunCmd(), newReloadCmd(), newStatusCmd(), newServerCmd(), newCheckCmd(), guarded(newApplyCmd()), guarded(newExecCmd()),
		newListCmd(), newSaveCmd(), guarded(newRestoreCmd()), guarded(newZeroCmd()), guarded(newFlushCmd()),
		newTimeoutsCmd(), newSyncCmd(), newBenchCmd(), newImportCmd(), newGenManCmd())
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	return runRoot(newRoot(), args, os.Stderr)
}

// runRoot runs a command line of root, reports its error on stderr and
// returns the exit code. A panic in the command is an internal error (exit
// 3), told apart from bad input (exit 2, which is also what the Go runtime
// uses for a panic nothing recovers).
func runRoot(root *cobra.Command, args []string, stderr io.Writer) (code int) {
	defer func() {
		if v := recover(); v != nil {
			crash.Report(stderr, v)
			code = exitInternal
		}
	}()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "luvs:", err)
	var in inputError
	if errors.As(err, &in) || isCobraUsageError(err) {
		return exitInput
	}
	return exitFailure
}

// isCobraUsageError recognises cobra's unknown-command and argument errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// openIPVS connects to the kernel, with an explanation when IPVS is missing.
func openIPVS() (*ipvs.Client, error) {
	c, err := ipvs.Open()
	if err != nil {
		if errors.Is(err, ipvs.ErrNotAvailable) {
			return nil, fmt.Errorf("%w\n(luvs's source tree can run luvs in a VM with an IPVS kernel: scripts/demo)", err)
		}
		return nil, fmt.Errorf("connect to IPVS: %w", err)
	}
	return c, nil
}

// exactArgs is cobra.ExactArgs with an input error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return badInput("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

// maxArgs is cobra.MaximumNArgs with an input error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return badInput("%s takes at most %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
