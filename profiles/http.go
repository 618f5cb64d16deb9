package profiles

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// MaxProfileDuration is the longest CPU or wall-clock profile the handlers
// take; longer requests get 400.
const MaxProfileDuration = 5 * time.Minute

// MaxTraceDuration is the longest execution trace TraceHandler captures;
// the trace is held in memory until it is served, and a busy process
// writes megabytes of trace per second.
const MaxTraceDuration = time.Minute

// durationParam reads the ?seconds= parameter: a positive number of
// seconds, fractions allowed, def when absent. Like net/http/pprof, it
// refuses a duration the server's WriteTimeout would cut off, and one
// past maxD.
func durationParam(r *http.Request, def, maxD time.Duration) (time.Duration, error) {
	s := r.FormValue("seconds")
	if s == "" {
		return def, nil
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || sec <= 0 {
		return 0, fmt.Errorf("seconds=%q: want a positive number of seconds", s)
	}
	// Compare in seconds: a huge value would overflow time.Duration.
	if sec > maxD.Seconds() {
		return 0, fmt.Errorf("seconds=%s: longer than the maximum of %s", s, maxD)
	}
	d := time.Duration(sec * float64(time.Second))
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 && d >= srv.WriteTimeout {
		return 0, fmt.Errorf("seconds=%s: not shorter than the server's write timeout of %s", s, srv.WriteTimeout)
	}
	return d, nil
}

// onlyGet refuses methods other than GET (a HEAD would take a whole
// profile to send no body); it reports whether the request may go on.
func onlyGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet {
		return true
	}
	w.Header().Set("Allow", "GET")
	serveError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: use GET")
	return false
}

func serveError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// attachment sets the headers of a binary download named filename.
func attachment(w http.ResponseWriter, contentType, filename string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// countingWriter counts the bytes written through it, so a handler knows
// whether it may still answer with an error status.
type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
