package stacks_test

import (
	"bytes"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/stacks"
)

// sample is a snapshot with one group of each kind of wait.
func sample() *stacks.Snapshot {
	read := []stacks.Frame{
		{Func: "internal/poll.runtime_pollWait", File: "/usr/local/go/src/runtime/netpoll.go", Line: 351},
		{Func: "net.(*conn).Read", File: "/usr/local/go/src/net/net.go", Line: 196},
		{Func: "github.com/vigilhq/vigil/executor/kube.(*Executor).Start", File: "/src/vigil/executor/kube/executor.go", Line: 201},
	}
	return &stacks.Snapshot{
		Taken:      time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Goroutines: 1207,
		Took:       183 * time.Millisecond,
		Pause:      98304 * time.Nanosecond,
		Pauses:     2,
		Groups: []stacks.Group{
			{
				Count: 1200, State: "chan receive",
				Stack: []stacks.Frame{
					{Func: "runtime.gopark", File: "/usr/local/go/src/runtime/proc.go", Line: 462},
					{Func: "github.com/vigilhq/vigil/scheduler.(*pool).worker", File: "/src/vigil/scheduler/pool.go", Line: 40},
				},
			},
			{
				Count: 3, State: "IO wait", Stack: read, Calls: []uint64{17, 18, 21},
				Labels: map[string]string{"task": "extract", "dag": "etl", "loop": "scheduler", "run": "r1", "zone": "a b"},
				Wait:   stacks.Wait{Exact: true, Min: 12 * time.Second, Max: 41 * time.Second, Source: stacks.WaitInflight},
			},
			{
				Count: 2, State: "sync.Mutex.Lock", Locked: true,
				Stack: []stacks.Frame{{Func: "github.com/vigilhq/vigil/scheduler/store/sqlite.(*Store).Apply", File: "/src/vigil/scheduler/store/sqlite/store.go", Line: 233}},
				Wait:  stacks.Wait{Min: 2 * time.Minute, Source: stacks.WaitSeen},
			},
			{
				Count: 1, State: "select", Labels: map[string]string{"loop": "scheduler"},
				Stack: []stacks.Frame{{Func: "github.com/vigilhq/vigil/scheduler.(*Loop).Run", File: "/src/vigil/scheduler/loop.go", Line: 141}},
				Wait:  stacks.Wait{Exact: true, Min: 1500 * time.Millisecond, Max: 1500 * time.Millisecond, Source: stacks.WaitInflight},
				Calls: []uint64{3},
			},
			{
				Count: 1, State: "chan send",
				Stack:     []stacks.Frame{{Func: "main.walk", File: "/x.go", Line: 4}, {Func: "...additional frames elided..."}},
				CreatedBy: &stacks.Frame{Func: "main.plan", File: "/x.go", Line: 9},
				Wait:      stacks.Wait{Min: 5 * time.Minute, Max: 65 * time.Minute, Source: stacks.WaitRuntime},
				IDs:       []uint64{90},
			},
		},
	}
}

func TestWriteTextGolden(t *testing.T) {
	tests := []struct {
		name string
		opts stacks.TextOptions
	}{
		{"all", stacks.TextOptions{}},
		{"min-wait", stacks.TextOptions{MinWait: 30 * time.Second}},
		{"match-regexp", stacks.TextOptions{Match: `dag=etl|Loop\)\.Run`}},
		{"match-literal", stacks.TextOptions{Match: "(*Store).Apply"}},
		{"max-groups", stacks.TextOptions{MaxGroups: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := sample().WriteText(&b, tt.opts); err != nil {
				t.Fatalf("WriteText: %v", err)
			}
			golden(t, "text-"+tt.name+".txt", b.Bytes())
		})
	}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name    string
		minWait time.Duration
		match   *regexp.Regexp
		want    []string // states of the groups kept, in order
	}{
		{"nothing", 0, nil, []string{"chan receive", "IO wait", "sync.Mutex.Lock", "select", "chan send"}},
		{"min wait drops unknown and short waits", 30 * time.Second, nil, []string{"IO wait", "sync.Mutex.Lock", "chan send"}},
		{"min wait uses the longest wait", 40 * time.Second, nil, []string{"IO wait", "sync.Mutex.Lock", "chan send"}},
		{"match a frame", 0, regexp.MustCompile(`pool\.go:40`), []string{"chan receive"}},
		{"match a label", 0, regexp.MustCompile(`^task=extract$`), []string{"IO wait"}},
		{"match the creator", 0, stacks.CompileMatch("main.plan /x.go:9"), []string{"chan send"}},
		{"match the state", 0, stacks.CompileMatch("sync.Mutex"), []string{"sync.Mutex.Lock"}},
		{"both", time.Second, stacks.CompileMatch("loop=scheduler"), []string{"IO wait", "select"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sample()
			got := s.Filter(tt.minWait, tt.match)
			var states []string
			for _, g := range got.Groups {
				states = append(states, g.State)
			}
			if !slices.Equal(states, tt.want) {
				t.Errorf("kept %v, want %v", states, tt.want)
			}
			if got.Goroutines != s.Goroutines || len(s.Groups) != 5 {
				t.Errorf("Filter changed the total (%d) or the original (%d groups)", got.Goroutines, len(s.Groups))
			}
		})
	}
}

func TestCompileMatch(t *testing.T) {
	tests := []struct{ in, text string }{
		{"(*conn).Read", "net.(*conn).Read"},    // not a valid expression: literal
		{`Read$`, "net.(*conn).Read"},           // a valid expression
		{"dag=etl", "dag=etl"},                  // both
		{"[", "a[b"},                            // literal bracket
		{"net.(*conn)", "net.(*conn).Read x:1"}, // literal with dots
	}
	for _, tt := range tests {
		if re := stacks.CompileMatch(tt.in); re == nil || !re.MatchString(tt.text) {
			t.Errorf("CompileMatch(%q) does not match %q", tt.in, tt.text)
		}
	}
	if stacks.CompileMatch("") != nil {
		t.Errorf("CompileMatch(\"\") is not nil")
	}
}
