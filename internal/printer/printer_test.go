package printer_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/exitcode"
	"github.com/vigilhq/vigil/internal/printer"
)

type item struct {
	ID      string    `json:"id"`
	Count   int64     `json:"count"`
	EndedAt time.Time `json:"ended_at,omitzero"`
}

type list struct {
	Items []item `json:"items"`
}

func sample() (list, *printer.Table) {
	l := list{Items: []item{{ID: "etl", Count: 1000000, EndedAt: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}, {ID: "hello", Count: 2}}}
	t := printer.NewTable("DAG", "COUNT")
	for _, it := range l.Items {
		t.Row(it.ID, it.Count)
	}
	return l, t
}

func TestPrint(t *testing.T) {
	tests := []struct {
		name      string
		opts      printer.Options
		want      string
		wantLacks string
	}{
		{"table", printer.Options{}, "DAG    COUNT\netl    1000000\nhello  2\n", ""},
		{"table by name", printer.Options{Output: "table"}, "DAG    COUNT\n", ""},
		{"no headers", printer.Options{NoHeaders: true}, "etl    1000000\nhello  2\n", "DAG"},
		{"json", printer.Options{Output: "json"}, `"ended_at": "2026-12-07T00:00:00Z"`, `"0001-01-01`},
		{"json snake case", printer.Options{Output: "json"}, `"count": 1000000`, ""},
		{"yaml", printer.Options{Output: "yaml"}, "- count: 1000000\n  ended_at: \"2026-12-07T00:00:00Z\"\n  id: etl\n", "0001-01-01"},
		{"jsonpath", printer.Options{Output: "jsonpath={.items[*].id}"}, "etl hello\n", ""},
		{"jsonpath without braces", printer.Options{Output: "jsonpath=.items[0].count"}, "1000000\n", "e+"},
		{"jsonpath range", printer.Options{Output: `jsonpath={range .items[*]}{.id}={.count}{"\n"}{end}`}, "etl=1000000\nhello=2\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); err != nil {
				t.Fatal(err)
			}
			l, tab := sample()
			var out bytes.Buffer
			if err := tt.opts.Print(&out, l, tab); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output:\n%s\nwant it to hold:\n%s", out.String(), tt.want)
			}
			if tt.wantLacks != "" && strings.Contains(out.String(), tt.wantLacks) {
				t.Errorf("output:\n%s\nholds %q", out.String(), tt.wantLacks)
			}
		})
	}
}

func TestBadOutputIsUsage(t *testing.T) {
	for _, o := range []string{"xml", "jsonpath=", "jsonpath={.items[", "JSON"} {
		t.Run(o, func(t *testing.T) {
			opts := printer.Options{Output: o}
			err := opts.Validate()
			if err == nil {
				t.Fatalf("-o %s accepted", o)
			}
			if code, ok := exitcode.Of(err); !ok || code != exitcode.Usage {
				t.Errorf("-o %s: code %d, %v; want %d (usage)", o, code, ok, exitcode.Usage)
			}
			if o == "xml" && !strings.Contains(err.Error(), printer.Choices) {
				t.Errorf("error %q does not list the choices", err)
			}
		})
	}
}

func TestHuman(t *testing.T) {
	for o, want := range map[string]bool{"": true, "table": true, "json": false, "yaml": false, "jsonpath={.a}": false} {
		if got := (printer.Options{Output: o}).Human(); got != want {
			t.Errorf("-o %q: Human %v, want %v", o, got, want)
		}
	}
}

// TestStreamJSONLines: --watch -o json prints one compact document per
// line, which a script decodes line by line.
func TestStreamJSONLines(t *testing.T) {
	opts := printer.Options{Output: "json"}.Stream()
	var out bytes.Buffer
	for i := range 3 {
		l, tab := sample()
		l.Items[1].Count = int64(i)
		if err := opts.Print(&out, l, tab); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out.String())
	}
	for i, line := range lines {
		var l list
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		if l.Items[1].Count != int64(i) || l.Items[1].EndedAt != (time.Time{}) {
			t.Errorf("line %d decodes to %+v", i+1, l)
		}
	}
}

func TestStreamYAMLDocuments(t *testing.T) {
	opts := printer.Options{Output: "yaml"}.Stream()
	var out bytes.Buffer
	for range 2 {
		l, tab := sample()
		if err := opts.Print(&out, l, tab); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(out.String(), "---\n"); n != 2 {
		t.Errorf("%d document markers, want 2:\n%s", n, out.String())
	}
}

func TestPrintWith(t *testing.T) {
	l, _ := sample()
	human := func(w *bytes.Buffer) func() error {
		return func() error { w.WriteString("a screen\n"); return nil }
	}
	var out bytes.Buffer
	if err := (printer.Options{}).PrintWith(&out, l, human(&out)); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a screen\n" {
		t.Errorf("table form: %q", out.String())
	}
	out.Reset()
	if err := (printer.Options{Output: "jsonpath={.items[0].id}"}).PrintWith(&out, l, human(&out)); err != nil {
		t.Fatal(err)
	}
	if out.String() != "etl\n" {
		t.Errorf("jsonpath form: %q", out.String())
	}
}
