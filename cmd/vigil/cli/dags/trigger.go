package dags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// TriggerOptions are `vigil dags trigger`'s.
type TriggerOptions struct {
	F        *cmdutil.Factory
	Ctx      context.Context
	DAGID    string
	Conf     []string
	ConfFile string
	RunID    string
	Reason   string
}

// NewCmdTrigger is `vigil dags trigger`.
func NewCmdTrigger(f *cmdutil.Factory, runF func(*TriggerOptions) error) *cobra.Command {
	opts := &TriggerOptions{F: f}
	c := &cobra.Command{
		Use:   "trigger DAG",
		Short: "Start a run of a DAG now",
		Long: `Create a manual run of a DAG. The scheduler picks it up within its sync
interval (2s by default) and runs it like a scheduled one.

--conf KEY=VALUE (repeatable) or --conf-file (a YAML or JSON object) set the
run's params over the DAG's defaults; its tasks get them as VIGIL_PARAM_<KEY>
and, all together as JSON, VIGIL_CONF. A DAG that declares params refuses a
key it does not declare.`,
		Example: `  vigil dags trigger hello
  vigil dags trigger etl --conf region=eu-west-1 --conf limit=100
  vigil dags trigger etl --conf-file conf.json`,
		Args: cmdutil.ExactArgs(1, "DAG"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.DAGID, opts.Ctx = args[0], c.Context()
			if len(opts.Conf) > 0 && opts.ConfFile != "" {
				return cmdutil.Usagef("--conf and --conf-file given together; give the values one way: put them all in the file, or all as --conf KEY=VALUE")
			}
			if runF != nil {
				return runF(opts)
			}
			return triggerRun(opts)
		},
	}
	c.Flags().StringArrayVar(&opts.Conf, "conf", nil, "a param of the run, KEY=VALUE (repeatable)")
	c.Flags().StringVar(&opts.ConfFile, "conf-file", "", "the run's params as a YAML or JSON object in a file")
	c.Flags().StringVar(&opts.RunID, "run-id", "", "the new run's id (default manual__<now>)")
	c.Flags().StringVar(&opts.Reason, "reason", "", "why, for the run's history")
	return c
}

func triggerRun(opts *TriggerOptions) error {
	conf, err := readConf(opts.Conf, opts.ConfFile)
	if err != nil {
		return err
	}
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	resp, err := cl.Trigger(ctx, opts.DAGID, api.TriggerRequest{RunID: opts.RunID, Conf: conf, Reason: opts.Reason})
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	out := opts.F.IOStreams.Out
	run := resp.Run
	if !resp.Created {
		fmt.Fprintf(out, "run %s of %s exists already (%s); nothing triggered\n", run.RunID, run.DAGID, run.State)
		return nil
	}
	n := 0
	for _, c := range run.TaskStates {
		n += c
	}
	if n > 0 {
		fmt.Fprintf(out, "triggered %s run %s (%d tasks)\n", run.DAGID, run.RunID, n)
	} else {
		fmt.Fprintf(out, "triggered %s run %s\n", run.DAGID, run.RunID)
	}
	if len(run.Params) > 0 {
		b, _ := json.Marshal(run.Params)
		fmt.Fprintf(out, "params: %s\n", b)
	}
	return nil
}

// maxConfFile bounds a --conf-file: a conf is a few names and values, and
// each ends up in every task's environment (a pod's spec included).
const maxConfFile = 64 << 10

// readConf reads --conf pairs or a --conf-file into the JSON object the
// API takes; the DAG's params check it on the server.
func readConf(pairs []string, file string) (map[string]any, error) {
	var vs dag.Values
	var err error
	if file == "" {
		if len(pairs) == 0 {
			return nil, nil
		}
		vs, err = dag.ParseConfPairs(pairs)
	} else {
		vs, err = readConfFile(file)
	}
	if err != nil {
		return nil, &cmdutil.UsageError{Err: err}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(vs.JSON()), &m); err != nil {
		return nil, err
	}
	return m, nil
}

func readConfFile(file string) (dag.Values, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--conf-file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxConfFile+1))
	if err != nil {
		return nil, fmt.Errorf("--conf-file %s: %w", file, err)
	}
	if len(data) > maxConfFile {
		return nil, errors.New("--conf-file " + file + " is over 64 KiB; a conf holds a few values that each task gets in its environment: pass large data by reference (a path, a URL)")
	}
	return dag.ParseConf(file, data)
}
