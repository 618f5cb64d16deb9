package stacks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/stacks"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func dumps(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "dumps", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dumps under testdata/dumps: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestParseGolden(t *testing.T) {
	for name, data := range dumps(t) {
		t.Run(name, func(t *testing.T) {
			snap, err := stacks.Parse(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var b bytes.Buffer
			if err := snap.WriteText(&b, stacks.TextOptions{}); err != nil {
				t.Fatalf("WriteText: %v", err)
			}
			golden(t, strings.TrimSuffix(name, ".txt")+".parsed.txt", b.Bytes())
		})
	}
}

func TestParse(t *testing.T) {
	const ioWait = `goroutine 48 [IO wait]:
internal/poll.runtime_pollWait(0x7f3a1c2e5e08, 0x72)
	/usr/local/go/src/runtime/netpoll.go:351 +0x85
net.(*conn).Read(0xc0000a6030, {0xc00031e000?, 0x0?, 0x0?})
	/usr/local/go/src/net/net.go:196 +0x45
created by net/http.(*Transport).dialConn in goroutine 131
	/usr/local/go/src/net/http/transport.go:1944 +0x174f
`
	tests := []struct {
		name       string
		in         string
		goroutines int
		groups     int
		check      func(t *testing.T, g stacks.Group) // on the first group
	}{
		{
			name: "frames, arguments and offsets", in: ioWait, goroutines: 1, groups: 1,
			check: func(t *testing.T, g stacks.Group) {
				want := []stacks.Frame{
					{Func: "internal/poll.runtime_pollWait", File: "/usr/local/go/src/runtime/netpoll.go", Line: 351},
					{Func: "net.(*conn).Read", File: "/usr/local/go/src/net/net.go", Line: 196},
				}
				if !equalFrames(g.Stack, want) {
					t.Errorf("stack = %v, want %v", g.Stack, want)
				}
				if g.CreatedBy == nil || g.CreatedBy.Func != "net/http.(*Transport).dialConn" || g.CreatedBy.Line != 1944 {
					t.Errorf("created by = %v", g.CreatedBy)
				}
				if g.State != "IO wait" || g.Wait.Known() || g.Locked {
					t.Errorf("state %q wait %+v locked %v", g.State, g.Wait, g.Locked)
				}
			},
		},
		{
			name:       "same stack, other arguments, ids and creators group",
			in:         ioWait + "\n" + strings.NewReplacer("goroutine 48", "goroutine 49", "0xc0000a6030", "0xc0000a6040", "goroutine 131", "goroutine 7").Replace(ioWait),
			goroutines: 2, groups: 1,
			check: func(t *testing.T, g stacks.Group) {
				if g.Count != 2 || len(g.IDs) != 2 || g.IDs[0] != 48 || g.IDs[1] != 49 {
					t.Errorf("count %d ids %v, want 2 and [48 49]", g.Count, g.IDs)
				}
			},
		},
		{
			name: "minutes and thread lock",
			in: "goroutine 18 [chan receive, 5 minutes, locked to thread]:\nmain.loop()\n\t/x/main.go:9 +0x58\n\n" +
				"goroutine 19 [chan receive, 12 minutes, locked to thread]:\nmain.loop()\n\t/x/main.go:9 +0x58\n",
			goroutines: 2, groups: 1,
			check: func(t *testing.T, g stacks.Group) {
				want := stacks.Wait{Min: 5 * time.Minute, Max: 12 * time.Minute, Source: stacks.WaitRuntime}
				if g.Wait != want || !g.Locked || g.State != "chan receive" {
					t.Errorf("wait %+v locked %v state %q, want %+v, locked, chan receive", g.Wait, g.Locked, g.State, want)
				}
			},
		},
		{
			name:       "different states do not group",
			in:         "goroutine 1 [running]:\nmain.f()\n\t/x.go:1\n\ngoroutine 2 [runnable]:\nmain.f()\n\t/x.go:1\n",
			goroutines: 2, groups: 2,
		},
		{
			name:       "labels from tracebacklabels",
			in:         `goroutine 211 gp=0xc000503340 m=nil [IO wait, 9 minutes labels:{"loop": "scheduler", "dag": "etl \"q\"", "task": "a, b"}]:` + "\nmain.f()\n\t/x.go:1 +0x1\n",
			goroutines: 1, groups: 1,
			check: func(t *testing.T, g stacks.Group) {
				want := map[string]string{"loop": "scheduler", "dag": `etl "q"`, "task": "a, b"}
				if !maps.Equal(g.Labels, want) || g.Wait.Min != 9*time.Minute || g.State != "IO wait" {
					t.Errorf("labels %v wait %+v state %q, want %v", g.Labels, g.Wait, g.State, want)
				}
			},
		},
		{
			name:       "elided frames are kept as markers",
			in:         "goroutine 90 [chan send]:\nmain.walk(0x1)\n\t/x.go:4 +0x9\n...additional frames elided...\ncreated by main.plan in goroutine 1\n\t/x.go:9 +0x8\n",
			goroutines: 1, groups: 1,
			check: func(t *testing.T, g stacks.Group) {
				if len(g.Stack) != 2 || g.Stack[1].Func != "...additional frames elided..." || g.CreatedBy == nil {
					t.Errorf("stack %v created by %v", g.Stack, g.CreatedBy)
				}
			},
		},
		{
			name:       "stack unavailable",
			in:         "goroutine 77 [running]:\n\tgoroutine running on other thread; stack unavailable\ncreated by main.f in goroutine 1\n\t/x.go:3 +0x1\n",
			goroutines: 1, groups: 1,
			check: func(t *testing.T, g stacks.Group) {
				if len(g.Stack) != 0 || g.CreatedBy == nil || g.CreatedBy.Func != "main.f" {
					t.Errorf("stack %v created by %v", g.Stack, g.CreatedBy)
				}
			},
		},
		{
			name:       "noise around the dump and CRLF",
			in:         "panic: boom\r\n\r\ngoroutine 1 [running]:\r\nmain.main()\r\n\t/x.go:3 +0x1\r\nexit status 2\r\nnot a frame\r\n",
			goroutines: 1, groups: 1,
			check: func(t *testing.T, g stacks.Group) {
				if len(g.Stack) != 1 || g.Stack[0].File != "/x.go" || g.Stack[0].Line != 3 {
					t.Errorf("stack %v", g.Stack)
				}
			},
		},
		{
			name:       "inlined frame without offset, function without file",
			in:         "goroutine 3 [select]:\nmain.g(...)\n\t/a b/x.go:7\nmain.h()\nmain.k()\n\t/x.go:9 +0x1\n",
			goroutines: 1, groups: 1,
			check: func(t *testing.T, g stacks.Group) {
				want := []stacks.Frame{{Func: "main.g", File: "/a b/x.go", Line: 7}, {Func: "main.h"}, {Func: "main.k", File: "/x.go", Line: 9}}
				if !equalFrames(g.Stack, want) {
					t.Errorf("stack = %v, want %v", g.Stack, want)
				}
			},
		},
		{
			name: "no goroutines", in: "hello\n\tworld\n", goroutines: 0, groups: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := stacks.Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if snap.Goroutines != tt.goroutines || len(snap.Groups) != tt.groups {
				t.Fatalf("%d goroutines in %d groups, want %d in %d: %+v", snap.Goroutines, len(snap.Groups), tt.goroutines, tt.groups, snap.Groups)
			}
			if tt.check != nil {
				tt.check(t, snap.Groups[0])
			}
		})
	}
}

func equalFrames(a, b []stacks.Frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// runtimeDump returns runtime.Stack(all) of this process with n goroutines
// parked in parkedForDump under pprof labels, and a stop function.
func runtimeDump(t testing.TB, n int) (dump []byte, stop func()) {
	t.Helper()
	ch := make(chan struct{})
	var begun sync.WaitGroup
	begun.Add(n)
	for range n {
		go pprof.Do(context.Background(), pprof.Labels("loop", "dump"), func(context.Context) { parkedForDump(ch, &begun) })
	}
	begun.Wait()
	// Let them reach the channel receive.
	time.Sleep(20 * time.Millisecond)
	buf := make([]byte, 1<<20)
	for {
		k := runtime.Stack(buf, true)
		if k < len(buf) {
			return buf[:k], func() { close(ch) }
		}
		buf = make([]byte, 2*len(buf))
	}
}

func parkedForDump(ch <-chan struct{}, begun *sync.WaitGroup) {
	begun.Done()
	<-ch
}

func TestParseRuntimeStack(t *testing.T) {
	const n = 5
	dump, stop := runtimeDump(t, n)
	defer stop()
	snap, err := stacks.Parse(bytes.NewReader(dump))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if want := bytes.Count(dump, []byte("\ngoroutine ")) + 1; snap.Goroutines != want {
		t.Errorf("Goroutines = %d, want %d (headers in the dump)", snap.Goroutines, want)
	}
	for _, g := range snap.Groups {
		if hasFunc(g, ".parkedForDump") && g.Count == n && g.State == "chan receive" && g.CreatedBy != nil {
			return
		}
	}
	t.Errorf("no group of %d goroutines in chan receive in parkedForDump:\n%s", n, dump)
}

func TestParseBoundsLines(t *testing.T) {
	// A 16 MiB function name: kept cut, not whole.
	in := io.MultiReader(
		strings.NewReader("goroutine 1 [running]:\nmain."),
		io.LimitReader(repeatReader('x'), 16<<20),
		strings.NewReader("()\n\t/x.go:1 +0x1\n"),
	)
	snap, err := stacks.Parse(in)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if snap.Goroutines != 1 || len(snap.Groups[0].Stack) != 1 || len(snap.Groups[0].Stack[0].Func) > 64<<10 {
		t.Errorf("huge line: %d goroutines, frame of %d bytes", snap.Goroutines, len(snap.Groups[0].Stack[0].Func))
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func FuzzParse(f *testing.F) {
	for _, data := range dumps(f) {
		f.Add(data)
	}
	dump, stop := runtimeDump(f, 3)
	stop()
	f.Add(dump)
	f.Add([]byte("goroutine 1 [running]:\n"))
	f.Add([]byte("goroutine 1 [x labels:{\"a\": \"b\"}]:\nf(\n\t:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := stacks.Parse(bytes.NewReader(data))
		if err != nil && !errors.Is(err, stacks.ErrTooLarge) {
			t.Fatalf("Parse: %v", err)
		}
		n := 0
		for _, g := range snap.Groups {
			if g.Count < 1 {
				t.Fatalf("group with count %d", g.Count)
			}
			n += g.Count
		}
		if n != snap.Goroutines {
			t.Fatalf("groups hold %d goroutines, Goroutines = %d", n, snap.Goroutines)
		}
		if err := snap.WriteText(io.Discard, stacks.TextOptions{Match: "main"}); err != nil {
			t.Fatalf("WriteText: %v", err)
		}
		if _, err := json.Marshal(snap); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}
