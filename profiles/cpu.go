package profiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	pyroscopepprof "github.com/grafana/pyroscope-go/http/pprof"
)

// ErrCPUProfilerBusy is returned when the CPU profiler is taken by another
// on-demand profile (or by code that called runtime/pprof.StartCPUProfile
// itself). Retry when that profile is done.
var ErrCPUProfilerBusy = errors.New("cpu profiler busy: another cpu profile is being taken")

// DefaultCPUProfileDuration is CPUProfileHandler's duration when the
// request has no ?seconds=.
const DefaultCPUProfileDuration = 30 * time.Second

// CPUProfile writes a pprof CPU profile of the next d to w. It works
// whether or not a Pusher runs: with one, it borrows the profiler from
// pyroscope-go's collector, which keeps uploading (see the package doc).
// If ctx ends first, w holds a valid, shorter profile and the error wraps
// ctx's.
func CPUProfile(ctx context.Context, d time.Duration, w io.Writer) error {
	if d <= 0 {
		return fmt.Errorf("cpu profile duration %s: must be positive", d)
	}
	// pyroscope-go's cooperating profiler is reachable only through its
	// HTTP handler, so call that handler in-process. It reads whole
	// seconds; the context deadline makes a fractional d exact. Hiding the
	// server from it leaves the WriteTimeout check to CPUProfileHandler,
	// which has already made it.
	pctx, cancel := context.WithTimeout(context.WithValue(ctx, http.ServerContextKey, nil), d)
	defer cancel()
	secs := strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, "/debug/pprof/profile?seconds="+secs, nil)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	rec := &profileRecorder{w: w, header: http.Header{}}
	pyroscopepprof.Profile(rec, req)

	switch {
	case rec.status == http.StatusInternalServerError:
		// The handler's only 500 is a failed StartCPUProfile, and that
		// fails only when the profiler is taken.
		return fmt.Errorf("%w (%s)", ErrCPUProfilerBusy, strings.TrimSpace(rec.errBody.String()))
	case rec.status >= 400:
		return fmt.Errorf("cpu profile: HTTP %d: %s", rec.status, strings.TrimSpace(rec.errBody.String()))
	case rec.err != nil:
		return fmt.Errorf("write cpu profile: %w", rec.err)
	case ctx.Err() != nil:
		return fmt.Errorf("cpu profile cut short: %w", context.Cause(ctx))
	}
	return nil
}

// CPUProfileHandler serves a pprof CPU profile of ?seconds=N (default 30,
// at most MaxProfileDuration), like net/http/pprof's /debug/pprof/profile
// but able to run beside a Pusher. It answers 409 when the CPU profiler is
// taken by another profile, and stops early when the client goes away.
//
//	go tool pprof http://vigil-admin:6060/debug/vigil/profile?seconds=10
func CPUProfileHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !onlyGet(w, r) {
			return
		}
		d, err := durationParam(r, DefaultCPUProfileDuration, MaxProfileDuration)
		if err != nil {
			serveError(w, http.StatusBadRequest, err.Error())
			return
		}
		attachment(w, "application/octet-stream", "cpu.pprof")
		cw := &countingWriter{w: w}
		err = CPUProfile(r.Context(), d, cw)
		switch {
		case err == nil || cw.n > 0:
			// Sent, or sent as far as the client would take it.
		case errors.Is(err, ErrCPUProfilerBusy):
			serveError(w, http.StatusConflict, err.Error())
		default:
			serveError(w, http.StatusInternalServerError, err.Error())
		}
	})
}

// profileRecorder is the http.ResponseWriter CPUProfile hands to
// pyroscope-go's handler: the profile goes to w, an error response to
// errBody.
type profileRecorder struct {
	w       io.Writer
	header  http.Header
	status  int
	err     error // the first error writing to w
	errBody strings.Builder
}

func (p *profileRecorder) Header() http.Header { return p.header }

func (p *profileRecorder) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *profileRecorder) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	if p.status >= 400 {
		return p.errBody.Write(b)
	}
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.w.Write(b)
	p.err = err
	return n, err
}
