package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
)

// TestConfigMaxCatchupRuns: max_catchup_runs is 16 by default, read from
// the config file, and --max-catchup-runs overrides the file.
func TestConfigMaxCatchupRuns(t *testing.T) {
	t.Setenv("VIGIL_CONFIG", "")
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("max_catchup_runs: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file string
		args []string
		want int
	}{
		{"", nil, 16},
		{file, nil, 4},
		{file, []string{"--max-catchup-runs", "2"}, 2},
	} {
		fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
		o := bindRunFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		o.apply(&c)
		if c.MaxCatchupRuns != tt.want {
			t.Errorf("file %q, flags %q: max_catchup_runs = %d, want %d", tt.file, tt.args, c.MaxCatchupRuns, tt.want)
		}
	}
}
