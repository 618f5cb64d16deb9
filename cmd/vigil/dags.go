package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/printer"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// validateReport is what `vigil dags validate -o json|yaml` prints.
type validateReport struct {
	// Valid is how many DAGs loaded.
	Valid int `json:"valid"`
	// FilesWithErrors is how many files did not.
	FilesWithErrors int               `json:"files_with_errors"`
	Errors          []validateProblem `json:"errors"`
}

// validateProblem is one problem in a DAG file.
type validateProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Task    string `json:"task,omitempty"`
	Message string `json:"message"`
}

// problems lists the problems err reports for file: each of a parse's
// errors with its place, or err itself.
func problems(file string, err error) []validateProblem {
	var list dag.ErrorList
	var one *dag.Error
	switch {
	case errors.As(err, &list):
		out := make([]validateProblem, len(list))
		for i, e := range list {
			out[i] = validateProblem{File: e.File, Line: e.Line, Column: e.Column, Task: e.Task, Message: e.Msg}
		}
		return out
	case errors.As(err, &one):
		return []validateProblem{{File: one.File, Line: one.Line, Column: one.Column, Task: one.Task, Message: one.Msg}}
	}
	var fe *dag.FileError
	if errors.As(err, &fe) {
		return []validateProblem{{File: fe.File, Message: fe.Err.Error()}}
	}
	return []validateProblem{{File: file, Message: err.Error()}}
}

// dagsValidateCmd is `vigil dags validate`: it reads DAG files, so it
// stays local (the other dags commands talk to the API, cli/dags).
func (a *app) dagsValidateCmd() *cobra.Command {
	var po printer.Options
	c := &cobra.Command{
		Use:   "validate [FILE|DIR]...",
		Short: "Check DAG files before the scheduler sees them",
		Long: `Parse and validate DAG files. Every error names the file, line and column and
says what to do. The exit status is 1 when any file has errors. It reads the files on this
machine: no scheduler or API is needed.`,
		Example: `  vigil dags validate                  # the configured DAG folder
  vigil dags validate dags/etl.yaml examples/dags
  vigil dags validate -o json | jq -r '.errors[] | "\(.file):\(.line): \(.message)"'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := po.Validate(); err != nil {
				return err
			}
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
			rep := validateReport{Errors: []validateProblem{}}
			var lines []string
			for _, p := range args {
				info, err := os.Stat(p)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				if info.IsDir() {
					res, _ := dag.NewLoader(p, presets, dag.LoaderOptions{Parse: parse}).Load()
					rep.Valid += len(res.DAGs)
					for _, fe := range res.Errors {
						rep.FilesWithErrors++
						lines = append(lines, fe.Error())
						rep.Errors = append(rep.Errors, problems(fe.File, fe)...)
					}
					continue
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if _, err := parse(p, data, presets); err != nil {
					rep.FilesWithErrors++
					lines = append(lines, err.Error())
					rep.Errors = append(rep.Errors, problems(p, err)...)
					continue
				}
				rep.Valid++
			}
			err = po.PrintWith(a.out, rep, func() error {
				for _, l := range lines {
					fmt.Fprintln(a.out, l)
				}
				_, err := fmt.Fprintf(a.out, "%d DAG(s) valid, %d file(s) with errors\n", rep.Valid, rep.FilesWithErrors)
				return err
			})
			if err != nil {
				return err
			}
			if rep.FilesWithErrors > 0 {
				return &problemError{fmt.Sprintf("%d file(s) with errors", rep.FilesWithErrors)}
			}
			return nil
		},
	}
	po.AddFlags(c.Flags())
	return c
}
