package stacks

import (
	"bytes"
	"cmp"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"github.com/vigilhq/vigil/diag/inflight"
)

// Frame is one frame of a stack.
type Frame struct {
	// Func is the function name as the runtime spells it:
	// "github.com/vigilhq/vigil/scheduler.(*Loop).run". An address
	// "0x4a5b20" when the profile had no symbols; a marker such as
	// "...additional frames elided..." in a text dump.
	Func string `json:"func"`
	File string `json:"file"`
	Line int64  `json:"line"`
}

// String is "func file:line".
func (f Frame) String() string {
	if f.File == "" && f.Line == 0 {
		return f.Func
	}
	return fmt.Sprintf("%s %s:%d", f.Func, f.File, f.Line)
}

// Wait sources.
const (
	// WaitInflight: exact, from the in-flight call registry.
	WaitInflight = "inflight"
	// WaitSeen: a lower bound, from a Tracker.
	WaitSeen = "seen"
	// WaitRuntime: the minutes a text dump printed, a lower bound.
	WaitRuntime = "runtime"
)

// Wait is what is known about how long a group's goroutines have waited.
// The zero Wait means unknown.
type Wait struct {
	// Exact is true when Min and Max are measured (Source "inflight").
	Exact bool `json:"exact"`
	// Min is the wait of the goroutine that has waited least: exact, or
	// a lower bound when Exact is false.
	Min time.Duration `json:"min_ns"`
	// Max is the wait of the goroutine that has waited longest; zero when
	// the source does not know it (Source "seen").
	Max time.Duration `json:"max_ns,omitempty"`
	// Source is WaitInflight, WaitSeen, WaitRuntime, or "" for unknown.
	Source string `json:"source,omitempty"`
}

// Known reports whether anything is known about the wait.
func (w Wait) Known() bool { return w.Source != "" }

// Longest is the longest wait known: Max when set, else Min.
func (w Wait) Longest() time.Duration { return max(w.Min, w.Max) }

// Group is a set of goroutines with the same stack and labels.
type Group struct {
	// Count is the number of goroutines in the group.
	Count int `json:"count"`
	// Stack is the common stack, innermost frame first.
	Stack []Frame `json:"stack"`
	// CreatedBy is the go statement that started the goroutines, when the
	// dump says (text dumps only).
	CreatedBy *Frame `json:"created_by,omitempty"`
	// Labels are the goroutines' pprof labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Wait is what is known about how long the goroutines have waited.
	Wait Wait `json:"wait"`
	// Calls are the IDs of the in-flight calls matched to the group,
	// oldest first.
	Calls []uint64 `json:"calls,omitempty"`
	// State is what the goroutines are doing: inferred from the top frames
	// for Capture and ParseProfile, the runtime's wait reason for Parse.
	// See the package documentation.
	State string `json:"state"`
	// Locked is true when the goroutines are locked to their OS thread
	// (text dumps only).
	Locked bool `json:"locked_to_thread,omitempty"`
	// IDs are the first few goroutine IDs of the group (text dumps only),
	// to find them in the full dump.
	IDs []uint64 `json:"ids,omitempty"`
}

// Snapshot is the goroutines of a process, grouped.
type Snapshot struct {
	// Taken is when the goroutines were recorded; zero when a text dump
	// does not say.
	Taken time.Time `json:"taken,omitzero"`
	// Goroutines is the number of goroutines, the sum of the groups'
	// counts before any Filter.
	Goroutines int `json:"goroutines"`
	// Groups are sorted by Count, largest first, then by longest wait.
	Groups []Group `json:"groups"`
	// Took is how long Capture took, end to end.
	Took time.Duration `json:"took_ns,omitempty"`
	// Pause is the longest stop-the-world pause recorded while Capture
	// ran, rounded up to its runtime/metrics histogram bucket (see the
	// package documentation). Zero for parsed snapshots.
	Pause time.Duration `json:"pause_ns,omitempty"`
	// Pauses is how many stop-the-world pauses were recorded while
	// Capture ran.
	Pauses int `json:"pauses,omitempty"`
}

// Options configure Capture.
type Options struct {
	// Calls returns the calls in flight (an *inflight.Registry's
	// Snapshot); nil for none.
	Calls func() []inflight.Call
	// Tracker, when set, observes the snapshot and fills the wait of the
	// groups no call explains (Source "seen").
	Tracker *Tracker
	// Now is the clock for Snapshot.Taken; time.Now by default.
	Now func() time.Time
}

// Capture takes a grouped snapshot of the goroutines of this process from
// the runtime's goroutine profile, which stops the world only briefly (see
// the package documentation), and matches opts.Calls to the groups.
func Capture(opts Options) (*Snapshot, error) {
	start := time.Now()
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	taken := now()
	before := readPauses()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
		return nil, fmt.Errorf("write goroutine profile: %w", err)
	}
	pauses := readPauses().since(before)
	var calls []inflight.Call
	if opts.Calls != nil {
		calls = opts.Calls()
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("parse goroutine profile: %w", err)
	}
	snap, err := fromProfile(p)
	if err != nil {
		return nil, err
	}
	snap.Taken = taken
	snap.Pause, snap.Pauses = pauses.longest, pauses.n
	matchCalls(snap.Groups, calls)
	if opts.Tracker != nil {
		opts.Tracker.Observe(snap)
	}
	snap.sort()
	snap.Took = time.Since(start)
	return snap, nil
}

// sort orders the groups by count, then longest wait, then stack, so
// that output is stable.
func (s *Snapshot) sort() {
	slices.SortStableFunc(s.Groups, func(a, b Group) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Wait.Longest(), a.Wait.Longest()); c != 0 {
			return c
		}
		return compareGroups(&a, &b)
	})
}

func compareGroups(a, b *Group) int {
	if c := slices.CompareFunc(a.Stack, b.Stack, compareFrames); c != 0 {
		return c
	}
	if c := strings.Compare(labelKey(a.Labels), labelKey(b.Labels)); c != 0 {
		return c
	}
	return strings.Compare(a.State, b.State)
}

func compareFrames(a, b Frame) int {
	if c := strings.Compare(a.Func, b.Func); c != 0 {
		return c
	}
	if c := strings.Compare(a.File, b.File); c != 0 {
		return c
	}
	return cmp.Compare(a.Line, b.Line)
}

// labelKey is the labels in key order, "k=v" joined by NULs: a map key
// and a sort key.
func labelKey(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	return b.String()
}
