package debugapi

import "time"

// Call describes one outbound call in flight: GET /inflight returns them
// oldest first.
type Call struct {
	// ID is unique within the registry, assigned by Begin.
	ID uint64 `json:"id"`
	// Kind is the family of call: "http", "db", "executor".
	Kind string `json:"kind"`
	// Target is what is called: a host:port, a database, an executor name.
	Target string `json:"target"`
	// Op is the operation: "POST /api/v1/namespaces/x/pods", "Apply",
	// "Start dag/run/task".
	Op string `json:"op"`
	// Detail is optional: a Kubernetes verb and resource ("create pods").
	Detail string `json:"detail,omitempty"`
	// Start is when the call began.
	Start time.Time `json:"start,omitzero"`
	// Deadline is the earliest of the context's deadline and any deadline
	// the caller gave (a client timeout); zero means NO DEADLINE.
	Deadline time.Time `json:"deadline,omitzero"`
	// Labels are the pprof labels of the calling goroutine's context.
	Labels map[string]string `json:"labels,omitempty"`
	// Site is the first caller frame outside the instrumentation and the
	// libraries below it, "function file:line".
	Site string `json:"site,omitempty"`
	// Stack is the calling goroutine's stack at Begin, innermost first,
	// as "function file:line" lines.
	Stack []string `json:"stack,omitempty"`
	// Age is how long the call has been running, set by Snapshot.
	Age time.Duration `json:"age_ns"`
	// CallerSkip is how many more frames inflight's Begin skips when it
	// records the stack: 1 for a helper that calls Begin for its own
	// caller. It stays in the process (never on the wire).
	CallerSkip int `json:"-"`
}

// NoDeadline reports whether the call can wait forever.
func (c Call) NoDeadline() bool { return c.Deadline.IsZero() }
