package loglevel

import (
	"bytes"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/printer"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got, *update)
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		r      Result
		format string
	}{
		{"show", Result{Level: "info"}, ""},
		{"set", Result{Level: "debug", Previous: "info"}, ""},
		{"set_json", Result{Level: "debug", Previous: "info"}, "json"},
		{"show_yaml", Result{Level: "warn"}, "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := (printer.Options{Output: tt.format}).PrintWith(&buf, tt.r, func() error { return Write(&buf, tt.r) }); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, buf.Bytes())
		})
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		usage bool
		level string
	}{
		{"show", []string{}, false, ""},
		{"debug", []string{"debug"}, false, "debug"},
		{"upper case", []string{"WARN"}, false, "warn"},
		{"error", []string{"error"}, false, "error"},
		{"unknown", []string{"verbose"}, true, ""},
		{"zap-only level", []string{"fatal"}, true, ""},
		{"two levels", []string{"debug", "info"}, true, ""},
		{"bad output", []string{"-o", "xml"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Target: &cmdutil.TargetFlags{}}
			var got *Options
			cmd := NewCmdLogLevel(f, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.usage {
				if !cmdutil.IsUsage(err) {
					t.Fatalf("err = %v; want a usage error", err)
				}
				if tt.name == "unknown" && !strings.Contains(err.Error(), "debug, info, warn, error") {
					t.Errorf("usage error %q does not list the levels", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Level != tt.level {
				t.Errorf("level = %q, want %q", got.Level, tt.level)
			}
		})
	}
}
