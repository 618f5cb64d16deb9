package cmdutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/internal/exitcode"
)

// Exit codes of every diag command, shown in `diag --help`: the table
// both binaries share (package exitcode).
const (
	// ExitOK: the command did what was asked and found nothing wrong.
	ExitOK = exitcode.OK
	// ExitFound: the command worked and found what it looks for: a
	// hanging call (hangs), a stale heartbeat (health, restart
	// --if-stalled refusing to act on a healthy one is ExitOK).
	ExitFound = exitcode.Found
	// ExitUsage: bad flags or arguments.
	ExitUsage = exitcode.Usage
	// ExitUnreachable: no scheduler found, or it could not be reached.
	ExitUnreachable = exitcode.Unreachable
	// ExitError: anything else (the API refused, a file could not be
	// written).
	ExitError = exitcode.Error
)

// ExitCodesHelp is the help text that documents the exit codes.
const ExitCodesHelp = exitcode.Help

// FoundError is returned by a command that worked and found something
// (exit status 1). Its message, if any, is printed to stderr.
type FoundError struct{ Msg string }

func (e *FoundError) Error() string { return e.Msg }

// UsageError is a mistake in flags or arguments (exit status 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is a mistake in flags or arguments: a
// UsageError, or an error carrying exit status 2 (a bad -o from package
// printer).
func IsUsage(err error) bool {
	var usage *UsageError
	if errors.As(err, &usage) {
		return true
	}
	code, ok := exitcode.Of(err)
	return ok && code == exitcode.Usage
}

// ExitCode maps an error from a command to the process's exit status.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var found *FoundError
	var usage *UsageError
	var api *client.APIError
	if code, ok := exitcode.Of(err); ok {
		return code
	}
	switch {
	case errors.As(err, &found):
		return ExitFound
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &api):
		return ExitError
	case unreachable(err):
		return ExitUnreachable
	}
	return ExitError
}

// unreachable reports whether err means the scheduler could not be
// reached: none found, the socket gone or refusing, a dial timing out.
func unreachable(err error) bool {
	if errors.Is(err, client.ErrNoScheduler) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOENT) || errors.Is(err, os.ErrNotExist) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
