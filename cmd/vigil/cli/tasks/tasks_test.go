package tasks

import (
	"io"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/exitcode"
)

func factory() *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	return &cmdutil.Factory{IOStreams: ios, Server: &cmdutil.ServerFlags{}, Getenv: func(string) string { return "" }}
}

func execute(c *cobra.Command, args ...string) error {
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.UsageError{Err: err} })
	return c.Execute()
}

func TestNewCmdList(t *testing.T) {
	var got *ListOptions
	c := NewCmdList(factory(), func(o *ListOptions) error { got = o; return nil })
	if err := execute(c, "--dag", "etl", "--run", "latest", "--state", "up_for_retry", "--no-headers"); err != nil {
		t.Fatal(err)
	}
	if got.Filter.DAGID != "etl" || got.Filter.RunID != "latest" || got.Filter.State != "up_for_retry" || !got.Printer.NoHeaders || got.Page.Limit != 100 {
		t.Errorf("options %+v", got)
	}
	for _, args := range [][]string{{"--run", "latest"}, {"--state", "done"}, {"-o", "csv"}} {
		if err := execute(NewCmdList(factory(), func(*ListOptions) error { return nil }), args...); cmdutil.ExitCode(err) != exitcode.Usage {
			t.Errorf("tasks list %v: %v; want a usage error", args, err)
		}
	}
}

func TestNewCmdHistoryLogs(t *testing.T) {
	var h *HistoryOptions
	if err := execute(NewCmdHistory(factory(), func(o *HistoryOptions) error { h = o; return nil }), "etl", "latest", "load", "--limit", "5", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if h.DAGID != "etl" || h.RunID != "latest" || h.Task != "load" || h.Page.Limit != 5 || h.Printer.Output != "json" {
		t.Errorf("history options %+v", h)
	}
	var l *LogsOptions
	if err := execute(NewCmdLogs(factory(), func(o *LogsOptions) error { l = o; return nil }), "etl", "r1", "load", "--try", "2"); err != nil {
		t.Fatal(err)
	}
	if l.DAGID != "etl" || l.RunID != "r1" || l.Task != "load" || l.Try != 2 {
		t.Errorf("logs options %+v", l)
	}
	if err := execute(NewCmdLogs(factory(), func(*LogsOptions) error { return nil }), "etl", "r1"); cmdutil.ExitCode(err) != exitcode.Usage {
		t.Errorf("logs with two arguments: %v; want a usage error", err)
	}
}

func TestNewCmdClearMark(t *testing.T) {
	var got *OpOptions
	if err := execute(NewCmdClear(factory(), func(o *OpOptions) error { got = o; return nil }), "etl", "latest", "load", "--downstream", "--upstream", "--only-failed", "--wait", "0"); err != nil {
		t.Fatal(err)
	}
	want := api.OpRequest{Kind: api.OpClearTasks, DAGID: "etl", RunID: "latest", TaskID: "load", Args: api.OpArgs{Downstream: true, Upstream: true, OnlyFailed: true}}
	if got.Req != want || got.Flags.Wait != 0 {
		t.Errorf("clear options %+v", got)
	}
	if err := execute(NewCmdMark(factory(), func(o *OpOptions) error { got = o; return nil }), "etl", "r1", "load", "--state", "success", "--downstream"); err != nil {
		t.Fatal(err)
	}
	if got.Req.Kind != api.OpMark || got.Req.Args.State != "success" || !got.Req.Args.Downstream {
		t.Errorf("mark options %+v", got)
	}
	if err := execute(NewCmdMark(factory(), func(*OpOptions) error { return nil }), "etl", "r1", "load", "--state", "running"); cmdutil.ExitCode(err) != exitcode.Usage {
		t.Errorf("mark --state running: %v; want a usage error", err)
	}
}

// TestTryOf: a try counts against the retries, except the tries before a
// clear and the evicted ones, and the column says which.
func TestTryOf(t *testing.T) {
	for _, c := range []struct {
		ti   api.TaskInstance
		want string
	}{
		{api.TaskInstance{Try: 2, MaxTries: 3}, "2/3"},
		{api.TaskInstance{Try: 3, MaxTries: 1, TryBase: 2}, "3 (1/1 since a clear)"},
		{api.TaskInstance{Try: 3, MaxTries: 1, Evictions: 2}, "3/1 (2 evicted, not counted)"},
	} {
		if got := TryOf(c.ti); got != c.want {
			t.Errorf("TryOf(%+v) = %q, want %q", c.ti, got, c.want)
		}
	}
}
