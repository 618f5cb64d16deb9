package dags

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

func TestNewCmdList(t *testing.T) {
	var got *ListOptions
	c := NewCmdList(factory(), func(o *ListOptions) error { got = o; return nil })
	if err := execute(c, "-o", "jsonpath={.items[*].id}", "--no-headers"); err != nil {
		t.Fatal(err)
	}
	if got.Printer.Output != "jsonpath={.items[*].id}" || !got.Printer.NoHeaders {
		t.Errorf("options %+v", got.Printer)
	}
	for _, args := range [][]string{{"-o", "xml"}, {"extra"}, {"--bogus"}} {
		if err := execute(NewCmdList(factory(), func(*ListOptions) error { return nil }), args...); cmdutil.ExitCode(err) != exitcode.Usage {
			t.Errorf("dags list %v: %v; want a usage error", args, err)
		}
	}
}

func TestNewCmdTrigger(t *testing.T) {
	var got *TriggerOptions
	c := NewCmdTrigger(factory(), func(o *TriggerOptions) error { got = o; return nil })
	if err := execute(c, "etl", "--conf", "region=eu", "--conf", "limit=3", "--run-id", "r1", "--reason", "rerun"); err != nil {
		t.Fatal(err)
	}
	if got.DAGID != "etl" || len(got.Conf) != 2 || got.RunID != "r1" || got.Reason != "rerun" {
		t.Errorf("options %+v", got)
	}
	err := execute(NewCmdTrigger(factory(), func(*TriggerOptions) error { return nil }), "etl", "--conf", "a=1", "--conf-file", "c.json")
	if cmdutil.ExitCode(err) != exitcode.Usage {
		t.Errorf("--conf with --conf-file: %v; want a usage error", err)
	}
	if err := execute(NewCmdTrigger(factory(), nil), "etl", "--conf", "novalue"); cmdutil.ExitCode(err) != exitcode.Usage {
		t.Errorf("--conf novalue: %v; want a usage error before any request", err)
	}
}

func TestNewCmdPause(t *testing.T) {
	for _, pause := range []bool{true, false} {
		var got *PauseOptions
		c := NewCmdPause(factory(), pause, func(o *PauseOptions) error { got = o; return nil })
		if err := execute(c, "etl", "--reason", "maintenance"); err != nil {
			t.Fatal(err)
		}
		if got.DAGID != "etl" || got.Pause != pause || got.Reason != "maintenance" {
			t.Errorf("pause=%v: options %+v", pause, got)
		}
	}
}

func TestNewCmdBackfill(t *testing.T) {
	var got *BackfillOptions
	c := NewCmdBackfill(factory(), func(o *BackfillOptions) error { got = o; return nil })
	if err := execute(c, "etl", "--from", "2026-11-01", "--to", "2026-11-07", "--reprocess", "failed", "--max-active-runs", "2", "--dry-run", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if got.DAGID != "etl" || got.From != "2026-11-01" || got.To != "2026-11-07" || got.Reprocess != "failed" || got.MaxActive != 2 || !got.DryRun || got.Printer.Output != "json" {
		t.Errorf("options %+v", got)
	}
	for _, args := range [][]string{{"etl", "--from", "2026-11-01"}, {"etl", "--from", "a", "--to", "b", "--reprocess", "some"}} {
		if err := execute(NewCmdBackfill(factory(), func(*BackfillOptions) error { return nil }), args...); cmdutil.ExitCode(err) != exitcode.Usage {
			t.Errorf("backfill %v: %v; want a usage error", args, err)
		}
	}
}
