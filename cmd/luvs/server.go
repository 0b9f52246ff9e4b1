package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/luvs-lb/luvs/internal/control"
	"github.com/luvs-lb/luvs/internal/daemon"
	"github.com/luvs-lb/luvs/internal/statedir"
	"github.com/luvs-lb/luvs/internal/status"
)

// send sends one request to the running daemon: an answer that is an error
// (a refused command) is bad input (exit 2), an unreachable daemon a
// failure (exit 1).
func send(cmd *cobra.Command, socket, request string, timeout time.Duration) (string, error) {
	if !cmd.Flags().Changed("socket") {
		socket = statedir.SocketPath(control.DefaultPath)
	}
	out, err := control.Send(socket, request, timeout)
	var re *control.RemoteError
	if errors.As(err, &re) {
		return "", inputError{err}
	}
	return out, err
}

const socketHelp = "the daemon's control socket (outside the host's network namespace the default is luvs-NAMESPACE.sock)"

func newStatusCmd() *cobra.Command {
	var socket string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running daemon's services, real servers and their states",
		Long: `Show what the running 'luvs run' sees: for each virtual service its state
(normal, QUORUM LOST, sorry server active) and for each real server its
name, weight in the configuration → in the kernel, state and why.

Server states: up, down (a check failed: the detail says which and why),
unknown (checks not decided since the start or a change), drain and maint
(set by 'luvs server'), leaving (dropped from the table, at weight 0 until
its connections finish or its drain_timeout passes), slow_start (weight
ramping up), removed (by 'luvs server remove'), sorry (the sorry server
standing in), lua_changed (changed by a Lua health check).

--json prints the same as JSON (snake_case keys), for scripts.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := send(cmd, socket, "status", 10*time.Second)
			if err != nil {
				return err
			}
			if asJSON {
				fmt.Println(out)
				return nil
			}
			var st status.Status
			if err := json.Unmarshal([]byte(out), &st); err != nil {
				return fmt.Errorf("the daemon's status: %w", err)
			}
			fmt.Print(st.Text())
			return nil
		},
	}
	cmd.Flags().StringVar(&socket, "socket", control.DefaultPath, socketHelp)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// newServerCmd is `luvs server drain|maint|ready|weight|add|remove`.
func newServerCmd() *cobra.Command {
	var socket, service string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Change a real server at run time: drain, maint, ready, weight, add, remove",
		Long: `Change real servers of the running daemon without editing its configuration.
The file stays the base; these overrides are layered on top, logged, shown
by 'luvs status', kept across reloads and restarts (in the state directory)
and last until cleared (ready, weight ADDR reset, or the opposite of an add
or a remove).

ADDR is an address (every port), ADDR:PORT, or a server's name (its 'name'
in the configuration, when one address:port carries it; the override is
stored by address). Without --service the command applies to every service
that has the server. add takes ADDR:PORT.`,
		Example: `  luvs server drain 198.18.1.1          # weight 0, checks go on
  luvs server drain web1                # the server named web1
  luvs server maint 198.18.1.1:80       # weight 0, checks stop
  luvs server ready 198.18.1.1          # back to normal (after a passing check)
  luvs server weight 198.18.1.2 50%     # half the configured weight; 'reset' clears
  luvs server add 198.18.1.9:80 --service 198.18.0.10:80 --weight 2
  luvs server remove 198.18.1.3:80 --service 198.18.0.10:80`,
	}
	cmd.PersistentFlags().StringVar(&socket, "socket", control.DefaultPath, socketHelp)
	cmd.PersistentFlags().StringVar(&service, "service", "", "the virtual service (as 'luvs list' takes it: 198.18.0.10:80, udp:..., fwmark:7); default: every service with the server")
	sub := func(use, short string, args int, req func(args []string) daemon.ServerRequest) *cobra.Command {
		c := &cobra.Command{
			Use:   use,
			Short: short,
			Args:  exactArgs(args),
			RunE: func(c *cobra.Command, args []string) error {
				r := req(args)
				r.Service = service
				line, err := r.Command()
				if err != nil {
					return err
				}
				out, err := send(c, socket, line, 10*time.Second)
				if err != nil {
					return err
				}
				fmt.Print(out)
				return nil
			},
		}
		return c
	}
	simple := func(action string) func([]string) daemon.ServerRequest {
		return func(args []string) daemon.ServerRequest { return daemon.ServerRequest{Action: action, Server: args[0]} }
	}
	var addWeight string
	add := sub("add ADDR:PORT --service VS", "Add a real server to a service (with the checks of its first server)", 1,
		func(args []string) daemon.ServerRequest {
			return daemon.ServerRequest{Action: "add", Server: args[0], Weight: addWeight}
		})
	add.Flags().StringVar(&addWeight, "weight", "1", "the new server's weight")
	cmd.AddCommand(
		sub("drain ADDR", "Set weight 0 while its checks go on (new connections stop, open ones finish)", 1, simple("drain")),
		sub("maint ADDR", "Set weight 0 and stop its checks (maintenance)", 1, simple("maint")),
		sub("ready ADDR", "End a drain or maintenance: back to normal once a check passes", 1, simple("ready")),
		sub("weight ADDR N|N%|reset", "Set its weight, or a percentage of the configured one ('reset' clears)", 2,
			func(args []string) daemon.ServerRequest {
				return daemon.ServerRequest{Action: "weight", Server: args[0], Weight: args[1]}
			}),
		add,
		sub("remove ADDR --service VS", "Take a real server out of a service (drained first, as a reload would)", 1, simple("remove")),
	)
	return cmd
}
