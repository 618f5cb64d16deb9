package dag

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// inputs returns the DAG files the golden, round-trip and fuzz tests use:
// testdata/*.yaml and the shipped examples.
func inputs(t testing.TB) []string {
	var files []string
	for _, pattern := range []string{"testdata/*.yaml", "../../examples/dags/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no DAG files found")
	}
	return files
}

// goldenName maps an input to its golden file: the canonical encoding of
// a valid DAG, or the error output of a broken one.
func goldenName(input string) string {
	base := strings.TrimSuffix(filepath.Base(input), ".yaml")
	if strings.Contains(input, "examples") {
		base = "example_" + base
	}
	return filepath.Join("testdata", "golden", base+".golden")
}

func TestGolden(t *testing.T) {
	for _, in := range inputs(t) {
		t.Run(filepath.Base(goldenName(in)), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			// A fixed name, so the golden error output does not depend on
			// the path the test runs from.
			name := filepath.ToSlash(in)
			var got []byte
			if d, err := Parse(name, data, DefaultPresets()); err != nil {
				got = []byte(err.Error() + "\n")
			} else if got, err = Encode(d); err != nil {
				t.Fatal(err)
			}
			golden := goldenName(in)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v; run go test ./scheduler/dag -update to write it", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (rerun with -update if the change is intended):\n%s", golden, got)
			}
		})
	}
}

// TestRoundTrip checks the round trip on every valid input; the fuzz test
// checks it on whatever else Parse accepts.
func TestRoundTrip(t *testing.T) {
	for _, in := range inputs(t) {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(in, data, DefaultPresets()); err != nil {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) { checkRoundTrip(t, data) })
	}
}

// checkRoundTrip asserts that for data Parse accepts, Parse(Encode(d))
// equals d and Encode is a fixed point.
func checkRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	d, err := Parse("in.yaml", data, DefaultPresets())
	if err != nil {
		return
	}
	enc, err := Encode(d)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	d2, err := Parse("in.yaml", enc, DefaultPresets())
	if err != nil {
		t.Fatalf("the encoding does not parse: %v\n%s", err, enc)
	}
	if !reflect.DeepEqual(d, d2) {
		t.Fatalf("Parse(Encode(d)) != d\n d: %#v\nd2: %#v\nencoding:\n%s", d, d2, enc)
	}
	enc2, err := Encode(d2)
	if err != nil {
		t.Fatalf("Encode again: %v", err)
	}
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("Encode is not a fixed point:\n%s\n---\n%s", enc, enc2)
	}
}

func TestEncodeMinimal(t *testing.T) {
	d := &DAG{ID: "x", MaxActiveRuns: 1, MaxActiveTasks: 1, Tasks: []Task{{ID: "a", Command: []string{"true"}}}}
	got, err := Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `id: x
catchup: false
max_active_runs: 1
max_active_tasks: 1
defaults:
  retries: 0
  retry_delay: 0s
  retry_exponential: false
  max_retry_delay: 0s
  execution_timeout: 0s
tasks:
  - id: a
    command:
      - "true"
`
	if string(got) != want {
		t.Errorf("Encode:\n%s\nwant:\n%s", got, want)
	}
	back, err := Parse("x.yaml", got, nil)
	if err != nil {
		t.Fatal(err)
	}
	back.File = ""
	if !reflect.DeepEqual(back, d) {
		t.Errorf("Parse(Encode(d)) = %+v, want %+v", back, d)
	}
}

func TestEncodeRefusesInvalidUTF8(t *testing.T) {
	d := &DAG{ID: "x", Description: "\xff", Tasks: []Task{{ID: "a", Command: []string{"true"}}}}
	if _, err := Encode(d); err == nil {
		t.Error("Encode accepted a description that is not UTF-8")
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{500 * time.Millisecond, "500ms"},
		{30 * time.Second, "30s"},
		{time.Minute, "1m"},
		{10 * time.Minute, "10m"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{time.Hour + 30*time.Minute, "1h30m"},
		{time.Hour + 5*time.Second, "1h0m5s"},
		{10*time.Hour + 10*time.Minute + 10*time.Second, "10h10m10s"},
		{2*time.Minute + 500*time.Millisecond, "2m0.5s"},
	} {
		got := formatDuration(tt.d)
		if got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != tt.d {
			t.Errorf("formatDuration(%v) = %q reads back as %v, %v", tt.d, got, back, err)
		}
	}
}

// trickyStrings are strings the YAML encoder must quote or escape to read
// them back unchanged.
var trickyStrings = []string{
	"", " ", "\n", " \n", "\n ", "a\n", "a\n\n", "\na", " a\nb", "a \nb", "a\n b",
	"\t", "\ta\n", "a\n\tb", "\r", "a\r\nb", "\u0085", "a\u2028b", "\ufeff", "\x7f", "\x01",
	"null", "~", "true", "NO", "on", "123", "0x1f", "1e3", ".inf", "2026-01-01",
	"-", "- a", "? a", ": a", "a: b", "a #b", "#", "'", "\"", "&a", "*a", "!a", "%a", "@a", "`a",
	"|", ">", "[", "{", ",", "---", "...", "<<", "\\", "é", "😀", "\u00a0a", "trailing ",
	"line1\nline2  \nline3", "x\n\n\n",
	strings.Repeat("long words  with double  spaces ", 20),
	strings.Repeat("x", 300) + " " + strings.Repeat("y", 300),
}

func TestEncodeTrickyStrings(t *testing.T) {
	for _, s := range trickyStrings {
		t.Run(strconv.Quote(s), func(t *testing.T) {
			d := &DAG{
				ID: "x", Description: s, MaxActiveRuns: 1, MaxActiveTasks: 1,
				Tasks: []Task{{ID: "a", Command: []string{"x", s}, Args: []string{s}, Env: []EnvVar{{"A", s}}}},
			}
			enc, err := Encode(d)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse("x.yaml", enc, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, enc)
			}
			back.File = ""
			if !reflect.DeepEqual(back, d) {
				t.Errorf("Parse(Encode(d)) = %+v, want %+v\n%s", back, d, enc)
			}
		})
	}
}

func TestStartDateRange(t *testing.T) {
	for _, v := range []string{"0000-01-01T00:00:00+01:00", "9999-12-31T23:00:00-02:00", "0000-06-01"} {
		t.Run(v, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("id: x\nstart_date: "+v+"\n"+oneTask), nil)
			want := "t.yaml:2:13: start_date " + v + " is out of range; give a time between the years 1 and 9999 (UTC)"
			if err == nil || err.Error() != want {
				t.Errorf("Parse = %v, want %s", err, want)
			}
		})
	}
}

// TestRunTimeoutRoundTrip: run_timeout is read, written in canonical form
// and read back the same; TestEncodeMinimal shows it is left out when unset,
// so encodings of DAGs without it do not change.
func TestRunTimeoutRoundTrip(t *testing.T) {
	d, err := Parse("x.yaml", []byte("id: x\nrun_timeout: 90m\n"+oneTask), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.RunTimeout != 90*time.Minute {
		t.Fatalf("RunTimeout = %v, want 1h30m", d.RunTimeout)
	}
	got, err := Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "\nrun_timeout: 1h30m\n") {
		t.Errorf("Encode does not write run_timeout: 1h30m:\n%s", got)
	}
	checkRoundTrip(t, got)
}
