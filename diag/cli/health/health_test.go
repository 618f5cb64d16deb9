package health

import (
	"bytes"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/watchdog"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestWriteTableGolden(t *testing.T) {
	hbs := []watchdog.Status{
		{Name: "executor.kube.events", Period: 2 * time.Second, Age: 300 * time.Millisecond, Beats: 900},
		{Name: "executor.kube.watch", Period: 30 * time.Second, Age: 95 * time.Second, Beats: 3, Stale: true, Advisory: true},
		{Name: "scheduler.loop", Period: 2 * time.Second, Age: 41 * time.Second, Beats: 450, Stale: true},
		{Name: "scheduler.sync", Period: 10 * time.Second, Age: 2 * time.Second},
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, hbs); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "table.golden"), buf.Bytes(), *update)
	if got, want := StaleNames(hbs), "scheduler.loop stale 41s (period 2s)"; got != want {
		t.Errorf("StaleNames = %q, want %q (advisory heartbeats do not count)", got, want)
	}
}
