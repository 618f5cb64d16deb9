package stacks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	gstacks "github.com/vigilhq/vigil/diag/stacks"
)

// ReadFile reads and groups the goroutine dump in the file at path, or in
// stdin when path is "-". The dump may sit among other lines (a panic
// message, log lines before and after it); lines that start with an
// RFC 3339 timestamp, as `kubectl logs --timestamps` prints them, are read
// without it.
func ReadFile(stdin io.Reader, path string) (*gstacks.Snapshot, error) {
	name := path
	var r io.Reader
	if path == "-" {
		name, r = "standard input", stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, cmdutil.Usagef("--file %s: no such file", path)
			}
			return nil, fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		r = f
	}
	snap, err := gstacks.Parse(&untimestamp{r: bufio.NewReaderSize(r, 64<<10)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if snap.Goroutines == 0 {
		return nil, cmdutil.Usagef(`%s: no goroutine dump found: no line like "goroutine 1 [running]:" followed by frames. `+
			`Give SIGQUIT or panic output, 'diag stacks --raw' output, or a container log holding one (kubectl logs --previous POD)`, name)
	}
	return snap, nil
}

// untimestamp is a reader of r's lines with a leading RFC 3339 timestamp
// and one space taken off each ("2026-12-07T03:12:44.123456789Z goroutine 1
// [running]:"). Lines without one pass unchanged. r's buffer must hold a
// timestamp (36 bytes): it is looked for in the first slice of a line.
type untimestamp struct {
	r   *bufio.Reader
	buf []byte // the rest of the current line
	mid bool   // inside a line whose start was already read
	err error
}

func (u *untimestamp) Read(p []byte) (int, error) {
	for len(u.buf) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		chunk, err := u.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			u.err = err
		}
		if !u.mid {
			chunk = stripTimestamp(chunk)
		}
		u.mid = errors.Is(err, bufio.ErrBufferFull)
		u.buf = append(u.buf[:0], chunk...)
	}
	n := copy(p, u.buf)
	u.buf = u.buf[n:]
	return n, nil
}

// stripTimestamp removes "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) " from the
// start of line.
func stripTimestamp(line []byte) []byte {
	const date = "0000-00-00T00:00:00"
	if len(line) < len(date)+2 {
		return line
	}
	for i := range len(date) {
		c := line[i]
		switch date[i] {
		case '0':
			if c < '0' || c > '9' {
				return line
			}
		default:
			if c != date[i] {
				return line
			}
		}
	}
	sp := bytes.IndexByte(line[len(date):], ' ')
	if sp < 0 || sp > 16 { // ".999999999+00:00" at most
		return line
	}
	zone := line[len(date) : len(date)+sp]
	for _, c := range zone {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'Z' || c == '+' || c == '-' || c == ':') {
			return line
		}
	}
	return line[len(date)+sp+1:]
}
