// Package inflight keeps a registry of the outbound calls a process is
// making right now: HTTP requests (through diag/wiretrace), database calls
// (through the store) and executor calls (through the scheduler).
//
// Each call is registered for as long as it runs, with its start time, its
// deadline or the lack of one, its target and the pprof labels of the
// goroutine that made it (loop, dag, task):
//
//	end := reg.Begin(ctx, inflight.Call{Kind: "db", Target: "sqlite", Op: "Apply"})
//	defer end()
//
// Snapshot lists the calls oldest first. A call with no deadline is the
// shape of the incident Vigil exists for (a pod create that waited nine
// minutes on a dead connection), so the watchdog names the oldest call of
// a stale loop in its bundle, and `diag hangs` lists calls with no
// deadline. The registry knows each call's wait time exactly, which a
// goroutine dump can only estimate.
//
// A nil *Registry is valid and records nothing, so instrumented code needs
// no branches when instrumentation is off.
package inflight

import (
	"context"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// Call describes one outbound call; it is what the debug API sends
// (GET /debug/v1/inflight).
type Call = debugapi.Call

// entry is a call in flight. Begin does the least it can on the caller's
// path, one allocation: the labels are read from the context, and the
// stack symbolized, only when someone looks (Snapshot).
type entry struct {
	call Call
	// ctx is the caller's context, kept while the call runs for its
	// labels; a context is immutable, so Snapshot may read it from
	// another goroutine.
	ctx context.Context
	n   int
	pcs [maxDepth]uintptr
}

// Options configure a Registry.
type Options struct {
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// LibraryPrefixes are function-name prefixes skipped when choosing a
	// call's Site (the library frames between the caller and the wire).
	// DefaultLibraryPrefixes when nil.
	LibraryPrefixes []string
}

// DefaultLibraryPrefixes skip the standard library's network and database
// layers, client-go, the SQL drivers and Vigil's own instrumentation.
var DefaultLibraryPrefixes = []string{
	"runtime.", "net/", "net.", "crypto/", "database/sql", "context.", "sync.",
	"k8s.io/client-go/", "k8s.io/apimachinery/", "golang.org/x/net/",
	"modernc.org/", "github.com/jackc/",
	"github.com/vigilhq/vigil/diag/",
}

// Registry is the set of calls in flight. Its methods are safe for
// concurrent use.
type Registry struct {
	now    func() time.Time
	prefix []string
	nextID atomic.Uint64
	total  atomic.Int64

	mu    sync.Mutex // guards calls
	calls map[uint64]*entry
}

// New returns an empty Registry.
func New(opts Options) *Registry {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LibraryPrefixes == nil {
		opts.LibraryPrefixes = DefaultLibraryPrefixes
	}
	return &Registry{now: opts.Now, prefix: opts.LibraryPrefixes, calls: map[uint64]*entry{}}
}

func noop() {}

// maxDepth bounds the stack kept per call: enough to reach the scheduler's
// frames through client-go's request machinery.
const maxDepth = 32

// Begin registers c as started now and returns the function that ends it.
// The deadline is the earlier of ctx's deadline and c.Deadline. The
// returned function must be called exactly once; it is cheap.
func (r *Registry) Begin(ctx context.Context, c Call) (end func()) {
	if r == nil {
		return noop
	}
	e := &entry{call: c, ctx: ctx}
	e.call.Start = r.now()
	if d, ok := ctx.Deadline(); ok && (c.Deadline.IsZero() || d.Before(c.Deadline)) {
		e.call.Deadline = d
	}
	e.n = runtime.Callers(2+max(c.CallerSkip, 0), e.pcs[:])
	e.call.ID = r.nextID.Add(1)
	r.total.Add(1)
	r.mu.Lock()
	r.calls[e.call.ID] = e
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.calls, e.call.ID)
		r.mu.Unlock()
	}
}

// Snapshot returns the calls in flight, oldest first, with their Age,
// Site and Stack filled in.
func (r *Registry) Snapshot() []Call {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	entries := make([]*entry, 0, len(r.calls))
	for _, e := range r.calls {
		entries = append(entries, e)
	}
	r.mu.Unlock()
	now := r.now()
	out := make([]Call, len(entries))
	for i, e := range entries {
		c := e.call // Begin wrote it before publishing e; nothing writes it since
		c.Age = now.Sub(c.Start)
		c.Stack, c.Site = r.symbolize(e.pcs[:e.n])
		pprof.ForLabels(e.ctx, func(k, v string) bool {
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			c.Labels[k] = v
			return true
		})
		out[i] = c
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Stats are the registry's numbers for metrics.
type Stats struct {
	InFlight   int
	NoDeadline int
	Oldest     time.Duration
	Total      int64 // calls begun since start
}

// Stats returns the count of calls in flight and the oldest one's age,
// without symbolizing stacks (cheap enough for every scrape).
func (r *Registry) Stats() Stats {
	if r == nil {
		return Stats{}
	}
	now := r.now()
	var st Stats
	r.mu.Lock()
	for _, e := range r.calls {
		st.InFlight++
		if e.call.Deadline.IsZero() {
			st.NoDeadline++
		}
		if age := now.Sub(e.call.Start); age > st.Oldest {
			st.Oldest = age
		}
	}
	r.mu.Unlock()
	st.Total = r.total.Load()
	return st
}

// symbolize turns pcs into "function file:line" lines and picks the site:
// the first frame that is not in a library prefix.
func (r *Registry) symbolize(pcs []uintptr) (stack []string, site string) {
	if len(pcs) == 0 {
		return nil, ""
	}
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		line := f.Function + " " + f.File + ":" + itoa(f.Line)
		stack = append(stack, line)
		if site == "" && !r.library(f.Function) {
			site = line
		}
		if !more {
			break
		}
	}
	return stack, site
}

func (r *Registry) library(fn string) bool {
	for _, p := range r.prefix {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
