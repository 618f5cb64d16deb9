// Package exitcode is the one table of exit statuses that both of Vigil's
// binaries use (issue 19): `vigil` (its admin commands) and `diag`. A
// script that runs either can tell "found a problem" from "could not ask"
// from "bad flags" the same way. Each binary's main maps its errors to
// these codes in one place and prints Help in its --help.
package exitcode

import "errors"

// The exit statuses.
const (
	// OK: the command did what was asked and found nothing wrong.
	OK = 0
	// Found: the command worked and found what it looks for: a stale
	// heartbeat or an unhealthy scheduler, a hanging call, a failed
	// backfill or operation, an invalid DAG file.
	Found = 1
	// Usage: bad flags or arguments.
	Usage = 2
	// Unreachable: no scheduler (or its API) found, or it could not be
	// reached.
	Unreachable = 3
	// Error: anything else (the server refused, a file could not be read).
	Error = 4
)

// Help is the help text that documents the exit statuses.
const Help = `Exit status:
  0  done; nothing wrong found
  1  found what the command looks for: a stale heartbeat or unhealthy scheduler, a hanging call,
     a failed backfill or operation, an invalid DAG file
  2  bad flags or arguments
  3  no scheduler or API found, or it could not be reached
  4  any other error`

// CodedError carries the exit status an error should end the process
// with. Packages that know (a printer refusing -o) return one; main reads
// it with Of.
type CodedError struct {
	Code int
	Err  error
}

func (e *CodedError) Error() string { return e.Err.Error() }
func (e *CodedError) Unwrap() error { return e.Err }

// With returns err carrying code.
func With(code int, err error) error { return &CodedError{Code: code, Err: err} }

// Of returns the code err carries, if it carries one.
func Of(err error) (int, bool) {
	var ce *CodedError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	return 0, false
}
