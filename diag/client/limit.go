package client

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// What diag reads from a server is bounded, each kind of answer by its
// own cap: a scheduler that is broken, or not a scheduler at all, must
// not be able to fill diag's memory or disk (issue 16: a 285 KB gzip
// made diag use 683 MB). Past a cap the read fails with a *TooLargeError.
const (
	// MaxJSON bounds a JSON answer (info, heartbeats, stacks, the wire
	// trace, the task report).
	MaxJSON = 64 << 20
	// MaxStream bounds a profile, an execution trace, a goroutine dump
	// or a bundle, as sent.
	MaxStream = 256 << 20
	// MaxInflated bounds a gzipped profile once decompressed, for diag's
	// own reading of it (the top table, the labels, the web UI).
	MaxInflated = 256 << 20
)

// TooLargeError is an answer, or a file, past its cap.
type TooLargeError struct {
	// What names it: an API path or a file.
	What  string
	Limit int64
	// Inflated is set when the cap was on the decompressed size.
	Inflated bool
}

func (e *TooLargeError) Error() string {
	how := ""
	if e.Inflated {
		how = " once decompressed"
	}
	return fmt.Sprintf("%s is larger than %s%s: diag reads no more than that from a scheduler (is this a Vigil debug API? is something wrong with it?)", e.What, size(e.Limit), how)
}

// size is n bytes for a message: "256 MiB", or "1000 bytes".
func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// IsTooLarge reports whether err is a *TooLargeError.
func IsTooLarge(err error) bool {
	var e *TooLargeError
	return errors.As(err, &e)
}

// limitFor is the cap on the answer at path (relative to the prefix).
func limitFor(path string) int64 {
	if strings.HasPrefix(path, "pprof/") || strings.HasPrefix(path, "bundles/") || path == "flightrecorder" {
		return MaxStream
	}
	return MaxJSON
}

// cappedBody reads at most limit bytes from a response body, and fails
// with a *TooLargeError when there is more.
type cappedBody struct {
	r    io.ReadCloser
	left int64
	err  *TooLargeError
}

func newCappedBody(r io.ReadCloser, what string, limit int64) *cappedBody {
	return &cappedBody{r: r, left: limit, err: &TooLargeError{What: what, Limit: limit}}
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// At the cap: one more byte says whether the answer was exactly
		// that long or longer.
		var one [1]byte
		n, err := io.ReadAtLeast(c.r, one[:], 1)
		if n > 0 {
			return 0, c.err
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cappedBody) Close() error { return c.r.Close() }
