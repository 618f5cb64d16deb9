// Package cligrammar holds the command-line grammar both binaries, vigil
// and diag, share beyond what cobra does: unknown subcommands and help
// topics are usage errors.
package cligrammar

import (
	"strings"

	"github.com/spf13/cobra"
)

// RefuseUnknownSubcommands makes root, and every command under it that
// only groups others, refuse an unknown subcommand ("dags nope") with a
// usage error (usagef, exit status 2) that names it and suggests a near one.
// Cobra alone prints the group's help and exits 0 for those, and for an
// unknown command at the root returns an error that exits 4. With no
// arguments a group still prints its help.
func RefuseUnknownSubcommands(root *cobra.Command, usagef func(format string, args ...any) error) {
	if !root.HasParent() {
		// Cobra adds `completion` when the command runs; add it now so
		// that `completion nope` is refused too.
		root.InitDefaultCompletionCmd()
		refuseUnknownHelpTopics(root, usagef)
	}
	for _, c := range root.Commands() {
		RefuseUnknownSubcommands(c, usagef)
	}
	if !root.HasSubCommands() || root.Runnable() {
		return
	}
	root.Args = cobra.ArbitraryArgs
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := "unknown command " + quote(args[0]) + " for " + quote(cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usagef("%s", msg)
	}
}

func quote(s string) string { return `"` + s + `"` }

// refuseUnknownHelpTopics makes `help nope` a usage error too: cobra's
// own help command prints "Unknown help topic" and exits 0.
func refuseUnknownHelpTopics(root *cobra.Command, usagef func(format string, args ...any) error) {
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() != "help" {
			continue
		}
		c.Run = nil
		c.RunE = func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return usagef("unknown help topic %s", quote(strings.Join(args, " ")))
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		}
	}
}
