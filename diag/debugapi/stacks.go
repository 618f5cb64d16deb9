package debugapi

import (
	"fmt"
	"time"
)

// Snapshot is the body of GET /stacks: the goroutines of a process,
// grouped by identical stack and labels.
type Snapshot struct {
	// Taken is when the goroutines were recorded; zero when a text dump
	// does not say.
	Taken time.Time `json:"taken,omitzero"`
	// Goroutines is the number of goroutines, the sum of the groups'
	// counts before any filter.
	Goroutines int `json:"goroutines"`
	// Groups are sorted by Count, largest first, then by longest wait.
	Groups []Group `json:"groups"`
	// Took is how long the capture took, end to end.
	Took time.Duration `json:"took_ns,omitempty"`
	// Pause is the longest stop-the-world pause recorded while the
	// capture ran, rounded up to its runtime/metrics histogram bucket
	// (see package stacks). Zero for parsed snapshots.
	Pause time.Duration `json:"pause_ns,omitempty"`
	// Pauses is how many stop-the-world pauses were recorded while the
	// capture ran.
	Pauses int `json:"pauses,omitempty"`
}

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
	// State is what the goroutines are doing: inferred from the top
	// frames for a capture or a profile, the runtime's wait reason for a
	// text dump. See package stacks.
	State string `json:"state"`
	// Locked is true when the goroutines are locked to their OS thread
	// (text dumps only).
	Locked bool `json:"locked_to_thread,omitempty"`
	// IDs are the first few goroutine IDs of the group (text dumps only),
	// to find them in the full dump.
	IDs []uint64 `json:"ids,omitempty"`
}

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
	// WaitSeen: a lower bound, from a tracker of successive snapshots.
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
