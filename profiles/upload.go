package profiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vigilhq/vigil/diag/redact"
)

// maxResponseBody bounds how much of an ingest response is read; the
// server answers an upload with an empty body or a short error.
const maxResponseBody = 64 << 10

// uploadClient is the client pyroscope-go uploads through
// (pyroscope.Config.HTTPClient). It is where uploads are counted: it sees
// every upload's outcome first-hand (the error, or the status and body),
// whatever pyroscope-go's log messages say, and it reads the response
// body itself so a body cut short by the timeout counts as a failure, as
// it does for pyroscope-go. Only a full upload queue never reaches it;
// pyroscopeLogger reports those.
type uploadClient struct {
	// ctx replaces pyroscope-go's context.Background() on every request;
	// Pusher.Stop cancels it to abort uploads past its budget.
	ctx      context.Context
	client   *http.Client
	now      func() time.Time
	failures *failureLog
	// drop are the pprof sample labels taken out of every profile before
	// it is sent (PushOptions.DropLabels).
	drop []string

	mu sync.Mutex // guards st
	st PushStats
}

// Do sends one upload and records its outcome.
func (c *uploadClient) Do(req *http.Request) (*http.Response, error) {
	req, err := dropLabels(req, c.drop)
	if err != nil {
		c.fail(false, err.Error())
		return nil, err
	}
	resp, err := c.client.Do(req.WithContext(c.ctx))
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		_ = resp.Body.Close()
		if err != nil {
			resp, err = nil, fmt.Errorf("read ingest response: %w", err)
		} else {
			resp.Body = io.NopCloser(bytes.NewReader(body))
		}
	}

	switch {
	case err != nil && c.ctx.Err() != nil:
		c.fail(true, "upload abandoned by Stop: "+describeErr(err))
	case err != nil:
		c.fail(false, describeErr(err))
	case resp.StatusCode != http.StatusOK:
		msg := fmt.Sprintf("%s %s: HTTP %d", req.Method, describeURL(req.URL), resp.StatusCode)
		if b := truncate(body, 200); b != "" {
			msg += ": " + b
		}
		c.fail(false, msg)
	default:
		c.mu.Lock()
		c.st.Uploaded++
		c.st.LastSuccess = c.now()
		c.mu.Unlock()
	}
	return resp, err
}

// fail records a failed (or, with dropped, an undelivered) upload and
// hands it to the rate-limited log.
func (c *uploadClient) fail(dropped bool, msg string) {
	msg = redact.Text(msg) // a server's reply may quote the request URL
	c.mu.Lock()
	if dropped {
		c.st.Dropped++
	} else {
		c.st.Failed++
	}
	c.st.LastError = msg
	c.st.LastFailure = c.now()
	st := c.st
	c.mu.Unlock()
	c.failures.add(msg, st)
}

func (c *uploadClient) stats() PushStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// describeErr shortens a *url.Error: the ingest URL's query (profile
// name, timestamps) is noise in a log line, and credentials must not leak.
func describeErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return fmt.Sprintf("%s %s: %v", ue.Op, describeURL(u), ue.Err)
		}
	}
	return err.Error()
}

func describeURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.Path
}

func truncate(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// MarshalLogObject lets a PushStats be logged with zap.Object.
func (s PushStats) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddUint64("uploaded", s.Uploaded)
	enc.AddUint64("failed", s.Failed)
	enc.AddUint64("dropped", s.Dropped)
	if s.LastError != "" {
		enc.AddString("lastError", s.LastError)
		enc.AddTime("lastFailure", s.LastFailure)
	}
	if !s.LastSuccess.IsZero() {
		enc.AddTime("lastSuccess", s.LastSuccess)
	}
	return nil
}

// pyroscopeLogger adapts pyroscope-go's logger to zap. Its debug and info
// chatter (every upload URL, the session settings) goes to Debug; its
// errors go through the failure log, except upload errors, which
// uploadClient has already counted and logged.
type pyroscopeLogger struct {
	log     *zap.Logger
	uploads *uploadClient
}

// The format strings pyroscope-go v1.4.3's remote uploader uses
// (upstream/remote/remote.go).
const (
	pyroscopeUploadError = "upload profile: %v"
	pyroscopeQueueFull   = "remote upload queue is full, dropping a profile job"
)

func (l *pyroscopeLogger) Debugf(format string, args ...any) { l.debug(format, args) }
func (l *pyroscopeLogger) Infof(format string, args ...any)  { l.debug(format, args) }

func (l *pyroscopeLogger) Errorf(format string, args ...any) {
	switch format {
	case pyroscopeUploadError:
		l.debug(format, args)
	case pyroscopeQueueFull:
		l.uploads.fail(true, "upload queue full: uploads are slower than profiles are made; dropped a profile")
	default:
		l.uploads.failures.add(redact.Text(fmt.Sprintf(format, args...)), l.uploads.stats())
	}
}

func (l *pyroscopeLogger) debug(format string, args []any) {
	if l.log.Core().Enabled(zapcore.DebugLevel) {
		// "uploading at URL" quotes the server address, basic-auth
		// password included (issue 16).
		l.log.Debug(redact.Text(fmt.Sprintf(format, args...)))
	}
}

// failureLog logs continuous-profiling failures at a rate that cannot
// flood the log while the server is down: the first failure at once, then
// at most one line per interval that counts the failures since the last
// line and quotes the latest. A failure that comes an interval or more
// after the last line is logged at once (with the count of any it held
// back). What is still held back when the Pusher stops is logged by flush.
type failureLog struct {
	log   *zap.Logger
	now   func() time.Time
	every time.Duration

	mu         sync.Mutex // guards the fields below
	lastLogged time.Time  // zero until the first line
	pending    int        // failures since lastLogged, not yet logged
	lastErr    string     // the latest of them
}

func newFailureLog(log *zap.Logger, now func() time.Time, every time.Duration) *failureLog {
	return &failureLog{log: log, now: now, every: every}
}

func (f *failureLog) add(msg string, st PushStats) {
	f.mu.Lock()
	now := f.now()
	if !f.lastLogged.IsZero() && now.Sub(f.lastLogged) < f.every {
		f.pending++
		f.lastErr = msg
		f.mu.Unlock()
		return
	}
	count, since := f.pending+1, now.Sub(f.lastLogged)
	f.lastLogged, f.pending, f.lastErr = now, 0, ""
	f.mu.Unlock()

	if count == 1 {
		f.log.Warn("continuous profiling failed", zap.String("error", msg), zap.Object("stats", st))
		return
	}
	f.log.Warn("continuous profiling still failing", zap.Int("failures", count),
		zap.Duration("in", since.Round(time.Second)), zap.String("lastError", msg), zap.Object("stats", st))
}

// flush logs the failures not yet logged, if any.
func (f *failureLog) flush(st PushStats) {
	f.mu.Lock()
	count, msg, since := f.pending, f.lastErr, f.now().Sub(f.lastLogged)
	f.pending, f.lastErr = 0, ""
	f.mu.Unlock()
	if count > 0 {
		f.log.Warn("continuous profiling still failing", zap.Int("failures", count),
			zap.Duration("in", since.Round(time.Second)), zap.String("lastError", msg), zap.Object("stats", st))
	}
}
