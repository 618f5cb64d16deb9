package profile

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pprofile "github.com/google/pprof/profile"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// checkGolden compares got with testdata/name.golden, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got, *update)
}

// cpuProfile is a small CPU profile with a fixed shape: the scheduler's
// loop calling into SQLite and the Kubernetes client.
func cpuProfile() *pprofile.Profile {
	m := &pprofile.Mapping{ID: 1, File: "/usr/local/bin/vigil", HasFunctions: true}
	var fns []*pprofile.Function
	var locs []*pprofile.Location
	for i, name := range []string{
		"runtime.main",
		"github.com/vigilhq/vigil/scheduler.(*Scheduler).loop",
		"github.com/vigilhq/vigil/scheduler/store/sqlite.(*Store).Apply",
		"modernc.org/sqlite.(*conn).exec",
		"github.com/vigilhq/vigil/executor/kube.(*Executor).Submit",
		"encoding/json.Marshal",
	} {
		fn := &pprofile.Function{ID: uint64(i + 1), Name: name, SystemName: name, Filename: "src/" + name + ".go"}
		fns = append(fns, fn)
		locs = append(locs, &pprofile.Location{ID: uint64(i + 1), Mapping: m, Address: uint64(0x1000 * (i + 1)),
			Line: []pprofile.Line{{Function: fn, Line: int64(10 * (i + 1))}}})
	}
	stack := func(ids ...int) []*pprofile.Location {
		var out []*pprofile.Location
		for i := len(ids) - 1; i >= 0; i-- { // leaf first
			out = append(out, locs[ids[i]])
		}
		return out
	}
	ms := int64(time.Millisecond)
	return &pprofile.Profile{
		SampleType:    []*pprofile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &pprofile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10 * ms,
		DurationNanos: int64(10 * time.Second),
		Mapping:       []*pprofile.Mapping{m},
		Function:      fns,
		Location:      locs,
		Sample: []*pprofile.Sample{
			{Location: stack(0, 1, 2, 3), Value: []int64{70, 700 * ms}, Label: map[string][]string{"loop": {"scheduler"}, "phase": {"sync"}}},
			{Location: stack(0, 1, 2), Value: []int64{10, 100 * ms}, Label: map[string][]string{"loop": {"scheduler"}, "phase": {"finish"}}},
			{Location: stack(0, 1, 4, 5), Value: []int64{15, 150 * ms}, Label: map[string][]string{"loop": {"submit"}, "dag": {"etl"}, "task": {"load"}}},
			{Location: stack(0, 1), Value: []int64{5, 50 * ms}},
		},
	}
}

func writeProfile(t *testing.T, p *pprofile.Profile) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWriteTop(t *testing.T) {
	path := writeProfile(t, cpuProfile())
	// The driver keeps a copy of every profile it takes for a download
	// in PPROF_TMPDIR (~/pprof by default); diag's are local files.
	saved := t.TempDir()
	t.Setenv("PPROF_TMPDIR", saved)
	defer func() {
		if ents, _ := os.ReadDir(saved); len(ents) > 0 {
			t.Errorf("the pprof driver saved %d files in PPROF_TMPDIR (%s)", len(ents), ents[0].Name())
		}
	}()
	tests := []struct {
		name string
		n    int
	}{
		{"top3", 3},
		{"top10", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := WriteTop(&out, &errOut, path, tt.n); err != nil {
				t.Fatalf("WriteTop: %v\nstderr: %s", err, errOut.String())
			}
			checkGolden(t, "cpu_"+tt.name, out.Bytes())
			if errOut.Len() > 0 {
				t.Errorf("driver messages on stderr: %q", errOut.String())
			}
		})
	}
}

func TestWriteLabels(t *testing.T) {
	var out bytes.Buffer
	if err := WriteLabels(&out, writeProfile(t, cpuProfile())); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "cpu_labels", out.Bytes())

	// A profile with no labels at all (heap) prints nothing.
	p := cpuProfile()
	for _, s := range p.Sample {
		s.Label = nil
	}
	out.Reset()
	if err := WriteLabels(&out, writeProfile(t, p)); err != nil || out.Len() > 0 {
		t.Errorf("WriteLabels without labels: %v, printed %q", err, out.String())
	}
}

func TestWriteTopFileNamedLikeAFlag(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	src := writeProfile(t, cpuProfile())
	if err := os.Rename(src, filepath.Join(dir, "-top.pprof")); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := WriteTop(&out, &errOut, "-top.pprof", 2); err != nil {
		t.Fatalf("WriteTop: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Showing top 2 nodes") {
		t.Errorf("top of ./-top.pprof:\n%s", out.String())
	}
}

func TestWriteTopRefusesWhatIsNotAFile(t *testing.T) {
	var out, errOut bytes.Buffer
	// A source that is not a file must not be fetched as a URL.
	err := WriteTop(&out, &errOut, "127.0.0.1:1/debug/pprof/profile", 5)
	if err == nil {
		t.Fatalf("WriteTop on a URL succeeded:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "no such file") {
		t.Errorf("error = %v, stderr %q; want the file not found", err, errOut.String())
	}
}

func TestServeWeb(t *testing.T) {
	path := writeProfile(t, cpuProfile())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var errOut bytes.Buffer
	go func() { done <- ServeWeb(ctx, &errOut, path, func(u string) { urls <- u }) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("ServeWeb ended before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("ServeWeb did not serve within 30s")
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("url = %q; want one on 127.0.0.1", url)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	tests := []struct {
		name, url, host string
		code            int
		want            string
	}{
		{"flame graph", url, "", http.StatusOK, "Scheduler"},
		{"top", strings.Replace(url, "/flamegraph", "/top", 1), "", http.StatusOK, "sqlite.(*conn).exec"},
		{"unknown path", strings.Replace(url, "/flamegraph", "/nope", 1), "", http.StatusNotFound, ""},
		{"foreign host", url, "evil.example:80", http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.want) {
				t.Errorf("GET %s: %d, body has %q: %v; want %d", tt.url, resp.StatusCode, tt.want, strings.Contains(string(body), tt.want), tt.code)
			}
		})
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeWeb after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeWeb did not stop within 10s of cancel")
	}
}

func TestFileName(t *testing.T) {
	now := time.Date(2026, 11, 23, 15, 30, 12, 0, time.UTC)
	tests := []struct{ kind, want string }{
		{"cpu", "vigil-cpu-20261123-153012.pprof"},
		{"heap", "vigil-heap-20261123-153012.pprof"},
		{"trace", "vigil-trace-20261123-153012.trace"},
		{"flightrecorder", "vigil-flightrecorder-20261123-153012.trace"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			if got := FileName(tt.kind, now); got != tt.want {
				t.Errorf("FileName(%q) = %q, want %q", tt.kind, got, tt.want)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		usage   bool // want a usage error
		seconds int
	}{
		{"cpu default", []string{"cpu"}, false, 10},
		{"wall default", []string{"wall"}, false, 10},
		{"trace default", []string{"trace"}, false, 5},
		{"heap snapshot", []string{"heap"}, false, 0},
		{"heap delta", []string{"heap", "--seconds", "30"}, false, 30},
		{"goroutine", []string{"goroutine"}, false, 0},
		{"cpu seconds", []string{"cpu", "--seconds", "3"}, false, 3},
		{"web", []string{"cpu", "--web"}, false, 10},
		{"no kind", []string{}, true, 0},
		{"two kinds", []string{"cpu", "heap"}, true, 0},
		{"unknown kind", []string{"memory"}, true, 0},
		{"cpu zero seconds", []string{"cpu", "--seconds", "0"}, true, 0},
		{"goroutine seconds", []string{"goroutine", "--seconds", "5"}, true, 0},
		{"flightrecorder seconds", []string{"flightrecorder", "--seconds", "5"}, true, 0},
		{"too long", []string{"cpu", "--seconds", "3600"}, true, 0},
		{"negative top", []string{"cpu", "--top", "-1"}, true, 0},
		{"web on trace", []string{"trace", "--web"}, true, 0},
		{"web and -o", []string{"cpu", "--web", "-o", "json"}, true, 0},
		{"bad -o", []string{"cpu", "-o", "xml"}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Target: &cmdutil.TargetFlags{}}
			var got *Options
			cmd := NewCmdProfile(f, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.usage {
				if !cmdutil.IsUsage(err) {
					t.Fatalf("err = %v; want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Seconds != tt.seconds {
				t.Errorf("seconds = %d, want %d", got.Seconds, tt.seconds)
			}
		})
	}
}

func TestCountdown(t *testing.T) {
	var buf syncBuffer
	stop := countdown(context.Background(), &buf, "cpu profile (3s)", 3*time.Second)
	time.Sleep(50 * time.Millisecond)
	stop()
	got := buf.String()
	if !strings.Contains(got, "Taking cpu profile (3s): 3s left") || !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("countdown wrote %q; want the time left, then the line cleared", got)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
