package ops

import (
	"io"
	"testing"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/exitcode"
)

func TestNewCmdList(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Server: &cmdutil.ServerFlags{}}
	var got *ListOptions
	c := NewCmdList(f, func(o *ListOptions) error { got = o; return nil })
	c.SetArgs([]string{"--dag", "etl", "--run", "r1", "--state", "pending", "-o", "json"})
	c.SetOut(io.Discard)
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Filter.DAGID != "etl" || got.Filter.RunID != "r1" || got.Filter.State != "pending" || got.Printer.Output != "json" {
		t.Errorf("options %+v", got)
	}
	c = NewCmdList(f, func(*ListOptions) error { return nil })
	c.SetArgs([]string{"--state", "lost"})
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	if err := c.Execute(); cmdutil.ExitCode(err) != exitcode.Usage {
		t.Errorf("--state lost: %v; want a usage error", err)
	}
}
