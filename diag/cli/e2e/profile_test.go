package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pprofile "github.com/google/pprof/profile"
	xtrace "golang.org/x/exp/trace"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/cli/profile"
)

// TestProfile takes every kind of profile from a live scheduler and reads
// each file back with the library the standard tool uses. The subtests
// run one after another: google/pprof's driver keeps package state.
func TestProfile(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})
	dir := t.TempDir()

	pprofs := []struct {
		name       string
		args       []string
		sampleType string
	}{
		{"cpu", []string{"cpu", "--seconds", "1"}, "cpu"},
		{"wall", []string{"wall", "--seconds", "1"}, "time"},
		{"heap", []string{"heap"}, "inuse_space"},
		{"allocs delta", []string{"allocs", "--seconds", "1"}, "alloc_space"},
		{"goroutine", []string{"goroutine"}, "goroutine"},
	}
	for _, tt := range pprofs {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".pprof")
			r := clitest.Run(t, s, append(append([]string{"profile"}, tt.args...), "--file", file, "--top", "5")...)
			if r.Code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Out, r.Err)
			}
			if r.Err != "" {
				t.Errorf("stderr is not a terminal, yet got %q", r.Err)
			}
			for _, want := range []string{"Saved ", file, "flat  flat%   sum%        cum   cum%", "go tool pprof"} {
				if !strings.Contains(r.Out, want) {
					t.Errorf("output lacks %q:\n%s", want, r.Out)
				}
			}
			p := readPProf(t, file)
			var types []string
			for _, st := range p.SampleType {
				types = append(types, st.Type)
			}
			if !slices.Contains(types, tt.sampleType) {
				t.Errorf("sample types %v; want %s", types, tt.sampleType)
			}
			if tt.name == "goroutine" && len(p.Sample) == 0 {
				t.Error("a goroutine profile with no goroutines")
			}
		})
	}

	traces := []struct {
		name string
		args []string
	}{
		{"trace", []string{"trace", "--seconds", "1"}},
		{"flightrecorder", []string{"flightrecorder"}},
	}
	for _, tt := range traces {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, tt.name+".trace")
			r := clitest.Run(t, s, append(append([]string{"profile"}, tt.args...), "--file", file)...)
			if r.Code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Out, r.Err)
			}
			if !strings.Contains(r.Out, "go tool trace "+file) || strings.Contains(r.Out, "flat%") {
				t.Errorf("output should say how to open the trace and show no pprof table:\n%s", r.Out)
			}
			if n := countTraceEvents(t, file); n == 0 {
				t.Error("the trace has no events")
			}
		})
	}

	t.Run("default name in a folder", func(t *testing.T) {
		sub := t.TempDir()
		r := clitest.Run(t, s, "profile", "goroutine", "--file", sub, "--top", "0")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		ents, _ := os.ReadDir(sub)
		if len(ents) != 1 || !regexp.MustCompile(`^vigil-goroutine-\d{8}-\d{6}\.pprof$`).MatchString(ents[0].Name()) {
			t.Fatalf("folder holds %v; want one vigil-goroutine-DATE-TIME.pprof", ents)
		}
		if strings.Contains(r.Out, "flat%") {
			t.Errorf("--top 0 printed a table:\n%s", r.Out)
		}
	})

	t.Run("countdown on a terminal", func(t *testing.T) {
		ios, _, out, errOut := iostreams.Test()
		ios.SetTTY(true)
		file := filepath.Join(dir, "cpu-tty.pprof")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code := cli.MainContext(ctx, []string{"--socket", s.Socket, "profile", "cpu", "--seconds", "2", "--file", file, "--top", "0"}, ios, "test")
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		got := errOut.String()
		if !strings.Contains(got, "Taking cpu profile (2s): 2s left") || !strings.HasSuffix(got, "\r\033[K") {
			t.Errorf("stderr %q; want a countdown, cleared at the end", got)
		}
		readPProf(t, file)
	})

	t.Run("-o json", func(t *testing.T) {
		file := filepath.Join(dir, "heap-json.pprof")
		r := clitest.Run(t, s, "profile", "heap", "--file", file, "-o", "json")
		var res profile.Result
		if err := json.Unmarshal([]byte(r.Out), &res); err != nil || r.Code != 0 {
			t.Fatalf("exit %d, %v:\n%s%s", r.Code, err, r.Out, r.Err)
		}
		st, err := os.Stat(file)
		if err != nil || res.File != file || res.Kind != "heap" || res.Bytes != st.Size() {
			t.Errorf("result %+v; file %v %v", res, st, err)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		sub := t.TempDir()
		file := filepath.Join(sub, "cpu.pprof")
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		r := clitest.RunContext(t, ctx, s, "profile", "cpu", "--seconds", "20", "--file", file)
		if r.Code == 0 || !strings.Contains(r.Err, "interrupted; nothing saved") {
			t.Errorf("exit %d, stderr %q; want a failure that says nothing was saved", r.Code, r.Err)
		}
		if ents, _ := os.ReadDir(sub); len(ents) != 0 {
			t.Errorf("an interrupted profile left %v", ents)
		}
	})

	usage := []struct {
		name string
		args []string
		want string
	}{
		{"unknown kind", []string{"profile", "memory"}, "cpu, heap, allocs"},
		{"seconds on a snapshot", []string{"profile", "goroutine", "--seconds", "3"}, "snapshot"},
		{"web on a trace", []string{"profile", "trace", "--web"}, "go tool trace"},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			r := clitest.Run(t, s, tt.args...)
			if r.Code != 2 || !strings.Contains(r.Err, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.Code, r.Err, tt.want)
			}
		})
	}

	t.Run("web", func(t *testing.T) { testProfileWeb(t, s, filepath.Join(dir, "web.pprof")) })
}

// testProfileWeb runs `diag profile heap --web` until it prints its
// address, reads the flame graph from it, and interrupts it.
// clitest.RunContext returns the output only when the command ends, so
// this runs diag the same way with an output it can read meanwhile.
func testProfileWeb(t *testing.T, s *clitest.Scheduler, file string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut profileLockedBuffer
	ios := &iostreams.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	done := make(chan int, 1)
	go func() {
		done <- cli.MainContext(ctx, []string{"--socket", s.Socket, "profile", "heap", "--web", "--file", file}, ios, "test")
	}()
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/\S*`)
	var url string
	clitest.WaitFor(t, "the web UI's address", 60*time.Second, func() bool {
		select {
		case code := <-done:
			t.Fatalf("profile --web ended with %d before serving:\n%s%s", code, out.String(), errOut.String())
		default:
		}
		url = urlRE.FindString(out.String())
		return url != ""
	})
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
		!bytes.Contains(body, []byte("flame")) {
		t.Errorf("GET %s: %d %s, %d bytes; want the flame graph page", url, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("profile --web exited %d after Ctrl-C; want 0\n%s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("profile --web still running 15s after Ctrl-C")
	}
	if _, err := hc.Get(url); err == nil {
		t.Errorf("the web UI still answers after Ctrl-C")
	}
}

func readPProf(t *testing.T, file string) *pprofile.Profile {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, _ := f.Stat(); st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v; want 0600", file, st.Mode().Perm())
	}
	p, err := pprofile.Parse(f)
	if err != nil {
		t.Fatalf("%s: not a pprof profile: %v", file, err)
	}
	return p
}

// countTraceEvents reads an execution trace with golang.org/x/exp/trace,
// the parser behind go tool trace, to its end.
func countTraceEvents(t *testing.T, file string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := xtrace.NewReader(f)
	if err != nil {
		t.Fatalf("%s: not an execution trace: %v", file, err)
	}
	n := 0
	for {
		_, err := r.ReadEvent()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("%s: event %d: %v", file, n, err)
		}
		n++
	}
}

type profileLockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *profileLockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *profileLockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
