package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newGenManCmd is the hidden `luvs gen-man DIR` that scripts/package runs
// to write a manual page per command (luvs.1, luvs-run.1, ...) from the
// help texts. The pages are dated SOURCE_DATE_EPOCH when it is set (the
// commit's time, for a reproducible package), else today.
func newGenManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "gen-man DIR",
		Short:  "Write a manual page per command to DIR",
		Hidden: true,
		Args:   exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{Section: "1", Source: "luvs " + version, Manual: "luvs manual"}
			if os.Getenv("SOURCE_DATE_EPOCH") == "" {
				now := time.Now()
				header.Date = &now
			}
			if err := doc.GenManTree(root, header, args[0]); err != nil {
				return fmt.Errorf("gen-man: %w", err)
			}
			return nil
		},
	}
}
