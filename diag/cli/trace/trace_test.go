package trace

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/internal/printer"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got, *update)
}

var start = time.Date(2026, 11, 23, 15, 30, 12, 123e6, time.UTC)

// exchanges are one of each kind of row: a Kubernetes create, a watch, a
// log read, an upload that failed at the transport, a 5xx.
func exchanges() []wiretrace.Exchange {
	return []wiretrace.Exchange{
		{Seq: 41, Client: "kube", Start: start, Method: "POST", URL: "https://10.0.0.1:6443/api/v1/namespaces/ci/pods?fieldManager=vigil",
			Host: "10.0.0.1:6443", Verb: "create", Version: "v1", Resource: "pods", Namespace: "ci",
			Status: 201, Duration: 8312 * time.Microsecond, ReqBytes: 1911, RespBytes: 3720,
			ReqHeaders: http.Header{"Authorization": {"REDACTED"}}},
		{Seq: 42, Client: "kube", Start: start.Add(40 * time.Millisecond), Method: "GET",
			URL: "https://10.0.0.1:6443/api/v1/namespaces/ci/pods?watch=true&resourceVersion=812", Verb: "watch", Resource: "pods",
			Status: 200, Streaming: true, Duration: 340 * time.Microsecond},
		{Seq: 43, Client: "kube", Start: start.Add(2 * time.Second), Method: "GET",
			URL: "https://10.0.0.1:6443/api/v1/namespaces/ci/pods/etl-extract-1/log", Verb: "get", Resource: "pods", Subresource: "log",
			Name: "etl-extract-1", Status: 200, Duration: 1500 * time.Millisecond, RespBytes: 5 << 20},
		{Seq: 44, Client: "pyroscope", Start: start.Add(15 * time.Second), Method: "POST",
			URL: "http://pyroscope.monitoring:4040/ingest?name=vigil&from=1", Err: "dial tcp 10.0.0.9:4040: connect:\nconnection refused",
			Duration: 10 * time.Second, ReqBytes: 20480},
		{Seq: 45, Start: start.Add(16 * time.Second), Method: "DELETE",
			URL: "https://10.0.0.1:6443/api/v1/namespaces/ci/pods/etl-extract-1", Verb: "delete", Resource: "pods",
			Status: 503, Duration: 30 * time.Second, RespBytes: 120},
	}
}

func TestWriteTable(t *testing.T) {
	tests := []struct {
		name string
		xs   []wiretrace.Exchange
		loc  *time.Location
	}{
		{"tail", exchanges(), time.UTC},
		{"tail_empty", nil, time.UTC},
		{"tail_berlin", exchanges()[:1], time.FixedZone("CET", 3600)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTable(&buf, tt.xs, tt.loc); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, buf.Bytes())
		})
	}
}

func TestWriteStatus(t *testing.T) {
	tests := []struct {
		name string
		st   Status
	}{
		{"status_summary", Status{Mode: "summary", Kept: 1200, InRing: 512, Dropped: 688}},
		{"status_off", Status{Mode: "off"}},
		{"status_bodies", Status{Mode: "bodies", Kept: 3, InRing: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteStatus(&buf, tt.st); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, buf.Bytes())
		})
	}
}

// TestPrinterFollows checks what --follow prints batch after batch: one
// header for a table, one JSON object per line for -o json, one YAML
// document per exchange for -o yaml.
func TestPrinterFollows(t *testing.T) {
	xs := exchanges()
	batches := [][]wiretrace.Exchange{xs[:2], nil, xs[2:]}
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"", func(t *testing.T, out string) {
			checkGolden(t, "follow_table", []byte(out))
			if n := strings.Count(out, "TIME"); n != 1 {
				t.Errorf("%d headers; want 1", n)
			}
		}},
		{"json", func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(xs) {
				t.Fatalf("%d lines for %d exchanges:\n%s", len(lines), len(xs), out)
			}
			for i, line := range lines {
				var x wiretrace.Exchange
				if err := json.Unmarshal([]byte(line), &x); err != nil {
					t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
				}
				if x.Seq != xs[i].Seq || x.URL != xs[i].URL {
					t.Errorf("line %d: seq %d %s; want %d %s", i+1, x.Seq, x.URL, xs[i].Seq, xs[i].URL)
				}
			}
		}},
		{"jsonpath={.seq}", func(t *testing.T, out string) {
			if want := "41\n42\n43\n44\n45\n"; out != want {
				t.Errorf("jsonpath lines %q, want %q", out, want)
			}
		}},
		{"yaml", func(t *testing.T, out string) {
			if n := strings.Count(out, "---\n"); n != len(xs) {
				t.Errorf("%d YAML documents for %d exchanges:\n%s", n, len(xs), out)
			}
			if !strings.Contains(out, "seq: 44") || !strings.Contains(out, "Authorization:\n  - REDACTED") {
				t.Errorf("YAML lacks an exchange's fields:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run("format="+tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			p := &streamPrinter{w: &buf, po: printer.Options{Output: tt.format}.Stream(), loc: time.UTC}
			for _, b := range batches {
				if err := p.print(b); err != nil {
					t.Fatal(err)
				}
			}
			tt.check(t, buf.String())
		})
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		usage bool
		mode  string
	}{
		{"status", []string{}, false, ""},
		{"status json", []string{"-o", "json"}, false, ""},
		{"headers", []string{"headers"}, false, "headers"},
		{"case and space", []string{" Bodies "}, false, "bodies"},
		{"off", []string{"off"}, false, "off"},
		{"unknown mode", []string{"verbose"}, true, ""},
		{"two modes", []string{"off", "summary"}, true, ""},
		{"bad output", []string{"-o", "xml"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Target: &cmdutil.TargetFlags{}}
			var got *Options
			cmd := NewCmdTrace(f, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.usage {
				if !cmdutil.IsUsage(err) {
					t.Fatalf("err = %v; want a usage error", err)
				}
				if tt.name == "unknown mode" && !strings.Contains(err.Error(), "off, summary, headers, bodies") {
					t.Errorf("usage error %q does not list the modes", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Mode != tt.mode {
				t.Errorf("mode = %q, want %q", got.Mode, tt.mode)
			}
		})
	}
}

func TestTailArgs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		usage bool
	}{
		{"default", []string{}, false},
		{"follow json", []string{"-f", "-o", "json"}, false},
		{"max", []string{"--max", "0"}, false},
		{"negative max", []string{"--max", "-1"}, true},
		{"argument", []string{"kube"}, true},
		{"table by name", []string{"-o", "table", "--no-headers"}, false},
		{"bad output", []string{"-o", "xml"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Target: &cmdutil.TargetFlags{}}
			cmd := NewCmdTail(f, func(*TailOptions) error { return nil })
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
