package cmdutil

import (
	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/cligrammar"
)

// RefuseUnknownSubcommands makes an unknown subcommand or help topic
// under root a usage error (exit status 2); see package cligrammar.
func RefuseUnknownSubcommands(root *cobra.Command) {
	cligrammar.RefuseUnknownSubcommands(root, Usagef)
}
