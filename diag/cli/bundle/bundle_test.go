package bundle

import (
	"bytes"
	"flag"
	"io"
	"path/filepath"
	"testing"
	"time"

	diagbundle "github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got, *update)
}

var now = time.Date(2026, 11, 23, 15, 30, 0, 0, time.UTC)

func TestWriteList(t *testing.T) {
	list := []diagbundle.Info{
		{Name: "vigil-bundle-20261123T152930000Z-queue-stuck-since-14-05.tar.gz", Size: 3 << 20, Time: now.Add(-30 * time.Second), Reason: "queue-stuck-since-14-05"},
		{Name: "vigil-bundle-20261123T120501123Z-stale.tar.gz", Size: 1234567, Time: now.Add(-3*time.Hour - 25*time.Minute), Reason: "stale",
			Summary: "bundle written 2026-11-23T12:05:01Z, reason: stale\nscheduler.loop stale 12s (period 2s); blocked in DELETE /api/v1/namespaces/etl/pods/vigil-etl-load-1 on 10.0.0.1:6443 for 11s, deadline in 19s\n"},
		{Name: "vigil-bundle-20261120T090000000Z-on-demand.tar.gz", Size: 900, Time: now.Add(-78 * time.Hour), Reason: "on-demand"},
		{Name: "vigil-bundle-odd.tar.gz", Size: 0, Time: now.Add(-time.Minute)},
	}
	var buf bytes.Buffer
	if err := WriteList(&buf, list, now); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "ls", buf.Bytes())
}

func TestWriteResult(t *testing.T) {
	tests := []struct {
		name string
		r    Result
	}{
		{"write_stale", Result{File: "vigil-bundle-20261123T152930000Z-on-demand.tar.gz", Bytes: 1234567, Bundle: diagbundle.Info{
			Name: "vigil-bundle-20261123T152930000Z-on-demand.tar.gz", Path: "/var/lib/vigil/bundles/vigil-bundle-20261123T152930000Z-on-demand.tar.gz",
			Summary: "bundle written 2026-11-23T15:29:30Z, reason: on-demand\nscheduler.loop stale 41s (period 2s); blocked in POST /api/v1/namespaces/x/pods on 10.0.0.1:6443 for 40s, NO DEADLINE\n\n1 outbound call(s) in flight, oldest first:\n",
		}}},
		{"write_healthy", Result{File: "/tmp/b.tar.gz", Bytes: 5000, Bundle: diagbundle.Info{
			Name: "vigil-bundle-20261123T152930000Z-e2e.tar.gz", Path: "/data/bundles/vigil-bundle-20261123T152930000Z-e2e.tar.gz",
			Summary: "bundle written 2026-11-23T15:29:30Z, reason: e2e\nno heartbeat is stale\nno outbound call in flight\n",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteResult(&buf, tt.r); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, buf.Bytes())
		})
	}
}

func TestReason(t *testing.T) {
	tests := []struct{ name, want string }{
		{"vigil-bundle-20261123T120501123Z-stale.tar.gz", "stale"},
		{"vigil-bundle-20261123T120501123Z-queue-stuck-since-14-05.tar.gz", "queue-stuck-since-14-05"},
		{"vigil-bundle-20261123T120501123Z.tar.gz", ""},
		{"something-else.tar.gz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reason(tt.name); got != tt.want {
				t.Errorf("Reason(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestHeadline(t *testing.T) {
	tests := []struct{ name, summary, want string }{
		{"finding", "bundle written 2026-11-23T12:05:01Z, reason: stale\nscheduler.loop stale 41s (period 2s)\n", "scheduler.loop stale 41s (period 2s)"},
		{"healthy", "bundle written 2026-11-23T12:05:01Z, reason: x\nno heartbeat is stale\n", "no heartbeat is stale"},
		{"header only", "bundle written 2026-11-23T12:05:01Z, reason: x\n", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Headline(tt.summary); got != tt.want {
				t.Errorf("Headline = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGetArgs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		usage bool
	}{
		{"name", []string{"vigil-bundle-20261123T120501123Z-stale.tar.gz"}, false},
		{"name and file", []string{"vigil-bundle-20261123T120501123Z-stale.tar.gz", "-f", "/tmp/x.tar.gz"}, false},
		{"no name", []string{}, true},
		{"two names", []string{"vigil-bundle-a.tar.gz", "vigil-bundle-b.tar.gz"}, true},
		{"a path", []string{"../vigil-bundle-a.tar.gz"}, true},
		{"not a bundle", []string{"passwd"}, true},
		{"bad output", []string{"vigil-bundle-a.tar.gz", "-o", "xml"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Target: &cmdutil.TargetFlags{}}
			cmd := NewCmdGet(f, func(*GetOptions) error { return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if got := cmdutil.IsUsage(err); got != tt.usage {
				t.Errorf("err = %v; usage error %v, want %v", err, got, tt.usage)
			}
		})
	}
}
