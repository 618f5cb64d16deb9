package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// dagsValidateCmd is `vigil dags validate`: it reads DAG files, so it
// stays local (the other dags commands talk to the API, cli/dags).
func (a *app) dagsValidateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "validate [FILE|DIR]...",
		Short: "Check DAG files before the scheduler sees them",
		Long: `Parse and validate DAG files. Every error names the file, line and column and
says what to do. The exit status is 1 when any file has errors. It reads the files on this
machine: no scheduler or API is needed.`,
		Example: `  vigil dags validate                  # the configured DAG folder
  vigil dags validate dags/etl.yaml examples/dags`,
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := a.loadConfig(nil)
			if err != nil {
				return err
			}
			presets, err := cfg.presets()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = []string{cfg.DAGs}
			}
			// The receivers' names only: validating needs none of their secrets.
			receivers := []string{}
			for _, r := range cfg.Notifications.Receivers {
				receivers = append(receivers, r.Name)
			}
			parse := func(file string, data []byte, presets dag.Presets) (*dag.DAG, error) {
				return dag.ParseChecked(file, data, presets, receivers)
			}
			var dags, bad int
			for _, p := range args {
				info, err := os.Stat(p)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				if info.IsDir() {
					res, _ := dag.NewLoader(p, presets, dag.LoaderOptions{Parse: parse}).Load()
					dags += len(res.DAGs)
					for _, fe := range res.Errors {
						bad++
						fmt.Fprintln(a.out, fe.Error())
					}
					continue
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if _, err := parse(p, data, presets); err != nil {
					bad++
					fmt.Fprintln(a.out, err)
					continue
				}
				dags++
			}
			fmt.Fprintf(a.out, "%d DAG(s) valid, %d file(s) with errors\n", dags, bad)
			if bad > 0 {
				return &problemError{fmt.Sprintf("%d file(s) with errors", bad)}
			}
			return nil
		},
	}
	return c
}
