package runs

import (
	"io"
	"testing"
	"time"

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
	if err := execute(c, "--dag", "etl", "--state", "failed", "--limit", "0", "--cursor", "abc", "-o", "yaml"); err != nil {
		t.Fatal(err)
	}
	if got.Filter.DAGID != "etl" || got.Filter.State != "failed" || got.Page.List().Limit != -1 || got.Page.Cursor != "abc" || got.Printer.Output != "yaml" {
		t.Errorf("options %+v", got)
	}
	if err := execute(NewCmdList(factory(), func(*ListOptions) error { return nil }), "--state", "exploded"); cmdutil.ExitCode(err) != exitcode.Usage {
		t.Errorf("--state exploded: %v; want a usage error", err)
	}
}

func TestNewCmdClearCancel(t *testing.T) {
	var got *OpOptions
	c := NewCmdClear(factory(), func(o *OpOptions) error { got = o; return nil })
	if err := execute(c, "etl", "latest", "--only-failed", "--dry-run", "--reason", "fixed", "--wait", "5s"); err != nil {
		t.Fatal(err)
	}
	want := api.OpRequest{Kind: api.OpClearRun, DAGID: "etl", RunID: "latest", Args: api.OpArgs{OnlyFailed: true}}
	if got.Req != want || !got.Flags.DryRun || got.Flags.Reason != "fixed" || got.Flags.Wait != 5*time.Second {
		t.Errorf("clear options %+v", got)
	}
	c = NewCmdCancel(factory(), func(o *OpOptions) error { got = o; return nil })
	if err := execute(c, "etl", "r1"); err != nil {
		t.Fatal(err)
	}
	if got.Req.Kind != api.OpCancelRun || got.Req.RunID != "r1" || got.Flags.Wait != 30*time.Second {
		t.Errorf("cancel options %+v", got)
	}
	if err := execute(NewCmdCancel(factory(), func(*OpOptions) error { return nil }), "etl"); cmdutil.ExitCode(err) != exitcode.Usage {
		t.Errorf("cancel with one argument: %v; want a usage error", err)
	}
}
