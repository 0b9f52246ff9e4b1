package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/luaipvs"
	"github.com/luvs-lb/luvs/internal/luasandbox"
)

func newExecCmd() *cobra.Command {
	var (
		timeout  time.Duration
		allocMiB uint64
	)
	cmd := &cobra.Command{
		Use:   "exec SCRIPT [ARG...]",
		Short: "Run an imperative Lua script against the kernel with the ipvs module",
		Long: `Run SCRIPT with the low-level 'ipvs' module, which mirrors the kernel's objects:

  local svc = ipvs.Service.new{addr = "198.18.0.10", port = 80, proto = "tcp", sched_name = "wrr"}
  svc:add_service()
  local web1 = ipvs.Dest.new{addr = "198.18.1.1", port = 80, weight = 1, conn = "nat"}
  svc:add_dest(web1)
  web1.weight = 3                      -- sent to the kernel at once
  for _, s in ipairs(ipvs.services()) do print(s, #s.dests) end
  ipvs.Daemon.new{state = "master", ifname = "eth0", syncid = 1}:start()

Changes are made one at a time, as the script runs. A kernel refusal raises a
Lua error with the script position and the kernel's reason (exit code 1).
The script runs in the same sandbox as configurations (no io, os.execute,
require or debug); its arguments are in the global table 'arg'.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return badInput("exec needs a script: luvs exec SCRIPT [ARG...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[0])
			if err != nil {
				return badInput("%v", err)
			}
			c, err := openIPVS()
			if err != nil {
				return err
			}
			defer c.Close()
			lim := luasandbox.DefaultLimits
			lim.Time, lim.Memory = timeout, allocMiB<<20
			L := luasandbox.New(lim, os.Stdout)
			defer L.Close()
			luaipvs.Register(L, c)
			argt := L.NewTable()
			for i, a := range args {
				argt.RawSetInt(i, lua.LString(a))
			}
			L.SetGlobal("arg", argt)
			L.SetGlobal("sleep", L.NewFunction(func(L *lua.LState) int {
				time.Sleep(time.Duration(float64(L.CheckNumber(1)) * float64(time.Second)))
				return 0
			}))
			err = luasandbox.Run(L, lim, func() error {
				fn, err := L.Load(bytesReader(src), args[0])
				if err != nil {
					return inputError{err}
				}
				L.Push(fn)
				return L.PCall(0, 0, nil)
			})
			var ae *lua.ApiError
			if errors.As(err, &ae) && ae.Type == lua.ApiErrorSyntax {
				return inputError{err}
			}
			if errors.As(err, &ae) {
				return fmt.Errorf("%s", ae.Object.String())
			}
			return err
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", time.Hour, "stop the script after this long")
	cmd.Flags().Uint64Var(&allocMiB, "max-alloc", 1024, "stop the script once it has allocated this many MiB in all (garbage included)")
	return cmd
}

func bytesReader(b []byte) *strings.Reader { return strings.NewReader(string(b)) }
