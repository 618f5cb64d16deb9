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
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/diag/inflight"
)

// Frame is one frame of a stack.
type Frame = debugapi.Frame

// Wait sources.
const (
	// WaitInflight: exact, from the in-flight call registry.
	WaitInflight = debugapi.WaitInflight
	// WaitSeen: a lower bound, from a Tracker.
	WaitSeen = debugapi.WaitSeen
	// WaitRuntime: the minutes a text dump printed, a lower bound.
	WaitRuntime = debugapi.WaitRuntime
)

// Wait is what is known about how long a group's goroutines have waited.
// The zero Wait means unknown.
type Wait = debugapi.Wait

// Group is a set of goroutines with the same stack and labels. State is
// what the goroutines are doing: inferred from the top frames for Capture
// and ParseProfile, the runtime's wait reason for Parse (see the package
// documentation).
type Group = debugapi.Group

// Snapshot is the goroutines of a process, grouped: the debug API's
// debugapi.Snapshot (GET /debug/v1/stacks sends it as is), with the
// filtering and text rendering of this package. A client's
// *debugapi.Snapshot converts to one: (*stacks.Snapshot)(snap).
type Snapshot debugapi.Snapshot

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
