package dag

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestParseNormalises(t *testing.T) {
	src := `
id: etl
schedule: "0   3 * * *"
start_date: 2026-02-03T04:05:06+01:00
defaults:
  retries: 1
  resources: {preset: small, cpu: "1000m"}
tasks:
  - id: a
    command: [sh, -c, "echo a"]
    args: []
    env: {B: 2, A: "x", C: true}
    resources: {}
  - id: b
    depends_on: [a, a]
    command: [echo]
    retries: 0
    retry_delay: 90s
    execution_timeout: 0
    resources: {memory: 0.5Gi}
`
	got, err := Parse("etl.yaml", []byte(src), DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	want := &DAG{
		ID:             "etl",
		Schedule:       "0 3 * * *",
		StartDate:      time.Date(2026, 2, 3, 3, 5, 6, 0, time.UTC),
		MaxActiveRuns:  16,
		MaxActiveTasks: 16,
		Defaults: Defaults{
			Retries:       1,
			RetryDelay:    30 * time.Second,
			MaxRetryDelay: 10 * time.Minute,
			Resources:     Resources{Preset: "small", CPU: "1"},
		},
		Tasks: []Task{
			{
				ID:      "a",
				Command: []string{"sh", "-c", "echo a"},
				Env:     []EnvVar{{"A", "x"}, {"B", "2"}, {"C", "true"}},
			},
			{
				ID:               "b",
				DependsOn:        []string{"a"},
				Command:          []string{"echo"},
				Retries:          ptr(0),
				RetryDelay:       ptr(90 * time.Second),
				ExecutionTimeout: ptr(time.Duration(0)),
				Resources:        &Resources{Memory: "512Mi"},
			},
		},
		File: "etl.yaml",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseTimezone(t *testing.T) {
	for _, tt := range []struct{ value, want string }{
		{"Europe/Berlin", "Europe/Berlin"},
		{"America/New_York", "America/New_York"},
		// UTC is the default, kept as "" so the encoding does not change.
		{"UTC", ""},
	} {
		in := "id: x\nschedule: '30 2 * * *'\ntimezone: " + tt.value + "\n" + oneTask
		d, err := Parse("t.yaml", []byte(in), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.value, err)
		}
		if d.Timezone != tt.want {
			t.Errorf("timezone: %s: Timezone = %q, want %q", tt.value, d.Timezone, tt.want)
		}
		checkRoundTrip(t, []byte(in))
		enc, err := Encode(d)
		if err != nil {
			t.Fatal(err)
		}
		if has := bytes.Contains(enc, []byte("timezone:")); has != (tt.want != "") {
			t.Errorf("timezone: %s: encoding has timezone: %v, want %v:\n%s", tt.value, has, tt.want != "", enc)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, tt := range []struct {
		name, value string
		want        time.Time
	}{
		{"plain date", "2026-01-01", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"quoted date", `"2026-01-01"`, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"rfc3339", "2026-01-01T10:00:00Z", time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		{"offset", "2026-01-01T10:00:00-02:00", time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"fraction", "2026-01-01T10:00:00.25Z", time.Date(2026, 1, 1, 10, 0, 0, 250e6, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("t.yaml", []byte("id: x\nstart_date: "+tt.value+"\n"+oneTask), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.StartDate, tt.want) {
				t.Errorf("StartDate = %v, want %v", d.StartDate, tt.want)
			}
		})
	}
}

func TestParseAnchors(t *testing.T) {
	src := `
id: anchors
x-base: &base
  command: [echo, base]
  retries: 3
  env: {A: "1"}
tasks:
  - id: a
    <<: *base
  - id: b
    <<: *base
    retries: ~
    command: [echo, b]
`
	d, err := Parse("t.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := d.Task("a"), d.Task("b")
	if !reflect.DeepEqual(a.Command, []string{"echo", "base"}) || a.Retries == nil || *a.Retries != 3 {
		t.Errorf("task a = %+v, want the merged command and retries", a)
	}
	if !reflect.DeepEqual(b.Command, []string{"echo", "b"}) || b.Retries != nil || len(b.Env) != 1 {
		t.Errorf("task b = %+v, want its own command, no retries (null hides the merged key), the merged env", b)
	}
}

func TestParseCanonicalQuantities(t *testing.T) {
	for in, want := range map[string]string{
		"1000m": "1", "0.5": "500m", "+1": "1", "1E3": "1e3", "1e+3": "1e3", "5.": "5",
		"1024Mi": "1Gi", "1.5Gi": "1536Mi", "1000k": "1M", "0.0": "0", "1e-10": "1e-9",
	} {
		t.Run(in, func(t *testing.T) {
			d, err := Parse("t.yaml", []byte("id: x\ntasks:\n  - {id: a, command: [x], resources: {cpu: "+in+"}}\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Tasks[0].Resources.CPU; got != want {
				t.Errorf("cpu %s reads as %q, want %q", in, got, want)
			}
		})
	}
}

// TestParseSharedAnchorError: a problem in an anchor that several tasks
// merge is reported once, at the anchor.
func TestParseSharedAnchorError(t *testing.T) {
	src := "id: x\nx-bad: &bad {command: [echo], retires: 1}\ntasks:\n  - {<<: *bad, id: a}\n  - {<<: *bad, id: b}\n"
	_, err := Parse("t.yaml", []byte(src), nil)
	want := `t.yaml:2:31: task "a": unknown field "retires" in a task; did you mean "retries"?`
	if err == nil || err.Error() != want {
		t.Errorf("Parse = %v, want %s", err, want)
	}
}

// TestExamples keeps the shipped examples valid.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/dags/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("want at least 3 example DAGs, got %v (%v)", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(f, data, DefaultPresets())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Specs(DefaultPresets()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  Error
		want string
	}{
		{"full", Error{"f.yaml", 3, 5, "load", "bad"}, `f.yaml:3:5: task "load": bad`},
		{"no task", Error{"f.yaml", 3, 5, "", "bad"}, `f.yaml:3:5: bad`},
		{"no column", Error{"f.yaml", 3, 0, "", "bad"}, `f.yaml:3: bad`},
		{"no position", Error{"f.yaml", 0, 0, "", "bad"}, `f.yaml: bad`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrorIsList(t *testing.T) {
	_, err := Parse("t.yaml", []byte("id: x\n"), nil)
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("Parse error = %#v, want an ErrorList of one", err)
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 1 || one.Column != 1 {
		t.Errorf("errors.As(*Error) = %+v, want the error at 1:1", one)
	}
}

func TestClosest(t *testing.T) {
	keys := taskSchema.keys
	for _, tt := range []struct{ in, want string }{
		{"dependsOn", "depends_on"},
		{"depends-on", "depends_on"},
		{"comand", "command"},
		{"retrys", "retries"},
		{"Image", "image"},
		{"zzz", ""},
		{strings.Repeat("x", 100), ""},
	} {
		if got := closest(tt.in, keys); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
