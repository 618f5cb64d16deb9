// Package dags is `vigil dags`: list, trigger, pause, unpause and backfill
// DAGs through the operations API. (`vigil dags validate` reads files and
// stays local; cmd/vigil adds it.)
package dags

import (
	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
)

// NewCmdDags is the `dags` group.
func NewCmdDags(f *cmdutil.Factory) *cobra.Command {
	c := &cobra.Command{Use: "dags", Short: "List, validate, trigger and pause DAGs"}
	f.AddServerFlags(c)
	c.AddCommand(NewCmdList(f, nil), NewCmdTrigger(f, nil), NewCmdPause(f, true, nil), NewCmdPause(f, false, nil), NewCmdBackfill(f, nil))
	return c
}
