package wiretrace

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
)

// Defaults for Options.
const (
	DefaultCapacity  = 512
	DefaultBodyLimit = 4096
)

// Options configure a Tracer.
type Options struct {
	// Mode is the initial mode; Off by default (the daemon starts in
	// Summary). A value that is not a mode means Off.
	Mode Mode
	// Capacity is how many exchanges the ring keeps; DefaultCapacity
	// when not positive.
	Capacity int
	// BodyLimit is how many bytes of each body Bodies mode keeps;
	// DefaultBodyLimit when not positive.
	BodyLimit int
	// Registry receives every request for as long as it runs, in every
	// mode, Off included. Nil registers nothing.
	Registry *inflight.Registry
	// Observe, when set, is called once for every finished exchange in
	// every mode, after it is in the ring (Seq is 0 when it was not
	// kept). It runs on the goroutine that finished the exchange (the one
	// reading the response body) and must be quick: the daemon feeds a
	// Prometheus histogram from it. The Exchange's header maps are shared
	// with the ring and must not be modified.
	Observe func(Exchange)
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// Tracer records the HTTP exchanges of every transport it wraps. Its
// methods are safe for concurrent use.
type Tracer struct {
	mode      atomic.Int32
	now       func() time.Time
	bodyLimit int
	reg       *inflight.Registry
	observe   func(Exchange)
	red       *redactor
	exchanges atomic.Uint64
	errors    atomic.Uint64

	mu      sync.Mutex    // guards the fields below
	ring    []Exchange    // fixed length Capacity; ring[next] is the slot written next
	next    int           // index of the slot written next
	n       int           // slots in use, at most len(ring)
	lastSeq uint64        // Seq of the newest kept exchange; 0 before the first
	dropped uint64        // exchanges overwritten in the ring
	wake    chan struct{} // closed on the next insert; nil when nobody waits
}

// New returns a Tracer with an empty ring.
func New(opts Options) *Tracer {
	if opts.Capacity <= 0 {
		opts.Capacity = DefaultCapacity
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if !opts.Mode.Valid() {
		opts.Mode = Off
	}
	t := &Tracer{
		now:       opts.Now,
		bodyLimit: opts.BodyLimit,
		reg:       opts.Registry,
		observe:   opts.Observe,
		red:       newRedactor(),
		ring:      make([]Exchange, opts.Capacity),
	}
	t.mode.Store(int32(opts.Mode))
	return t
}

// SetMode switches the mode. It applies to requests that start after it;
// a request already running finishes in the mode it started in. A value
// that is not one of the four modes is ignored.
func (t *Tracer) SetMode(m Mode) {
	if m.Valid() {
		t.mode.Store(int32(m))
	}
}

// Mode returns the current mode.
func (t *Tracer) Mode() Mode { return Mode(t.mode.Load()) }

// Stats are the Tracer's totals since it was created.
type Stats struct {
	// Mode is the current mode.
	Mode Mode `json:"mode"`
	// Exchanges counts finished exchanges in every mode, Off included.
	Exchanges uint64 `json:"exchanges"`
	// Errors counts exchanges that ended in a transport or body read
	// error (Exchange.Err set); HTTP error statuses are not errors here.
	Errors uint64 `json:"errors"`
	// Dropped counts kept exchanges overwritten in the ring by newer ones.
	Dropped uint64 `json:"dropped"`
	// Kept is how many exchanges the ring holds now; Capacity its size.
	Kept     int `json:"kept"`
	Capacity int `json:"capacity"`
	// LastSeq is the Seq of the newest kept exchange.
	LastSeq uint64 `json:"last_seq"`
}

// Stats returns the totals.
func (t *Tracer) Stats() Stats {
	st := Stats{Mode: t.Mode(), Exchanges: t.exchanges.Load(), Errors: t.errors.Load()}
	t.mu.Lock()
	st.Dropped, st.Kept, st.Capacity, st.LastSeq = t.dropped, t.n, len(t.ring), t.lastSeq
	t.mu.Unlock()
	return st
}

// Entries returns the kept exchanges with Seq > after, oldest first, at
// most max of them (all when max is not positive). Seq numbers are
// consecutive, so a first entry with Seq > after+1 means the ring dropped
// the ones between before they were read.
func (t *Tracer) Entries(after uint64, max int) []Exchange {
	out, _, _ := t.entries(after, max)
	return out
}

// entries is Entries that also returns the newest Seq and how many
// entries after `after` the ring no longer holds.
func (t *Tracer) entries(after uint64, max int) (out []Exchange, lastSeq, missed uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lastSeq = t.lastSeq
	if after >= lastSeq {
		return nil, lastSeq, 0
	}
	oldest := lastSeq - uint64(t.n) + 1
	from := after + 1
	if from < oldest {
		missed, from = oldest-from, oldest
	}
	count := lastSeq - from + 1
	if max > 0 && count > uint64(max) {
		count = uint64(max)
	}
	size := len(t.ring)
	// The newest entry is at next-1; entry from is lastSeq-from slots
	// before it.
	i := ((t.next-1-int(lastSeq-from))%size + size) % size
	out = make([]Exchange, 0, count)
	for range count {
		out = append(out, t.ring[i])
		i = (i + 1) % size
	}
	return out, lastSeq, missed
}

// Wait blocks until an exchange with Seq > after is kept or ctx ends.
// It returns at once when one already is.
func (t *Tracer) Wait(ctx context.Context, after uint64) {
	for {
		t.mu.Lock()
		if t.lastSeq > after {
			t.mu.Unlock()
			return
		}
		if t.wake == nil {
			t.wake = make(chan struct{})
		}
		wake := t.wake
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}

// lastSeqNow returns the Seq of the newest kept exchange.
func (t *Tracer) lastSeqNow() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastSeq
}

// record counts x, keeps it in the ring unless the exchange ran in Off
// mode, and hands it to Observe.
func (t *Tracer) record(x *Exchange, mode Mode) {
	t.exchanges.Add(1)
	if x.Err != "" {
		t.errors.Add(1)
	}
	if mode != Off {
		t.mu.Lock()
		t.lastSeq++
		x.Seq = t.lastSeq
		if t.n == len(t.ring) {
			t.dropped++
		} else {
			t.n++
		}
		t.ring[t.next] = *x
		t.next = (t.next + 1) % len(t.ring)
		wake := t.wake
		t.wake = nil
		t.mu.Unlock()
		if wake != nil {
			close(wake)
		}
	}
	if t.observe != nil {
		t.observe(*x)
	}
}

// Wrap returns a RoundTripper that traces every request through rt
// (http.DefaultTransport when nil). On a nil Tracer it returns rt
// unchanged, so clients can be built before tracing is set up.
//
// For the Kubernetes client:
//
//	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
//		return tracer.Wrap(rt, wiretrace.WithName("kube"), wiretrace.WithClientTimeout(cfg.Timeout))
//	}
func (t *Tracer) Wrap(rt http.RoundTripper, opts ...WrapOption) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	if t == nil {
		return rt
	}
	w := &transport{t: t, rt: rt, kube: true}
	for _, o := range opts {
		o(w)
	}
	return w
}

// WrapOption configures one wrapped transport.
type WrapOption func(*transport)

// WithName names the client in its exchanges ("kube", "pyroscope") and,
// for calls that are not Kubernetes API calls, in the in-flight Detail.
func WithName(name string) WrapOption {
	return func(w *transport) { w.name = name }
}

// WithClientTimeout gives the timeout of the http.Client or rest.Config
// using the transport. A timeout enforced by the client outside the
// request's context is invisible to the transport, so without this such
// a request would show as NO DEADLINE in flight; with it, the in-flight
// deadline is the earlier of the context's deadline and the request's
// start plus d. Zero or negative means no timeout.
func WithClientTimeout(d time.Duration) WrapOption {
	return func(w *transport) { w.timeout = d }
}

// WithSecretPath says the URLs of this client are credentials beyond
// their userinfo and query: a Slack incoming webhook's path is its key.
// Exchanges, errors and in-flight entries then show scheme://host/REDACTED.
func WithSecretPath() WrapOption {
	return func(w *transport) { w.secretPath = true }
}

// WithSecretHeaders names more request headers whose values are
// credentials (a receiver's X-Api-Key): they are recorded as REDACTED,
// like Authorization.
func WithSecretHeaders(names ...string) WrapOption {
	return func(w *transport) {
		for _, n := range names {
			w.secretHeaders = append(w.secretHeaders, http.CanonicalHeaderKey(n))
		}
	}
}

// WithKubernetes says whether request paths are read as Kubernetes API
// calls (verb, resource, namespace, name). It is on by default; turn it
// off for a client of another API whose paths also start with /api/
// (Prometheus's /api/v1/query would read as "list query").
func WithKubernetes(parse bool) WrapOption {
	return func(w *transport) { w.kube = parse }
}
