package pools

import (
	"io"
	"testing"

	"github.com/spf13/cobra"

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

func TestNewCmdPools(t *testing.T) {
	var l *ListOptions
	if err := execute(NewCmdList(factory(), func(o *ListOptions) error { l = o; return nil }), "--no-headers", "-o", "table"); err != nil {
		t.Fatal(err)
	}
	if !l.Printer.NoHeaders {
		t.Errorf("list options %+v", l)
	}
	var s *SetOptions
	if err := execute(NewCmdSet(factory(), func(o *SetOptions) error { s = o; return nil }), "warehouse", "--slots", "4", "--reason", "db limit"); err != nil {
		t.Fatal(err)
	}
	if s.Name != "warehouse" || s.Set.Slots != 4 || s.Set.Reason != "db limit" || !s.KeepDescription {
		t.Errorf("set options %+v", s)
	}
	if err := execute(NewCmdSet(factory(), func(o *SetOptions) error { s = o; return nil }), "warehouse", "--slots", "-1", "--description", ""); err != nil || s.KeepDescription || s.Set.Slots != -1 {
		t.Errorf("set --description '': %+v, %v; want the description cleared", s, err)
	}
	for _, args := range [][]string{{"warehouse"}, {"warehouse", "--slots", "-2"}} {
		if err := execute(NewCmdSet(factory(), func(*SetOptions) error { return nil }), args...); cmdutil.ExitCode(err) != exitcode.Usage {
			t.Errorf("set %v: %v; want a usage error", args, err)
		}
	}
	var d *DeleteOptions
	if err := execute(NewCmdDelete(factory(), func(o *DeleteOptions) error { d = o; return nil }), "warehouse", "--reason", "gone"); err != nil || d.Name != "warehouse" || d.Reason != "gone" {
		t.Errorf("delete options %+v, %v", d, err)
	}
	var h *HistoryOptions
	if err := execute(NewCmdHistory(factory(), func(o *HistoryOptions) error { h = o; return nil }), "warehouse", "-o", "json"); err != nil || h.Name != "warehouse" || h.Printer.Output != "json" {
		t.Errorf("history options %+v, %v", h, err)
	}
	if err := execute(NewCmdHistory(factory(), func(*HistoryOptions) error { return nil }), "a", "b"); cmdutil.ExitCode(err) != exitcode.Usage {
		t.Errorf("history a b: %v; want a usage error", err)
	}
}
