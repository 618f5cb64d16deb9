package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/internal/exitcode"
)

// FoundError is returned by a command that worked and found a problem it
// reports through its exit status (1): no live scheduler, an operation
// or backfill that failed, an invalid DAG file. Its message has been
// printed already, or is printed by main.
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

// NoServerError says that no API was found to talk to, or it could not be
// reached (exit status 3). Its message says what to do.
type NoServerError struct {
	Msg string
	Err error
}

func (e *NoServerError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Err.Error() + "\n" + e.Msg
}
func (e *NoServerError) Unwrap() error { return e.Err }

// reachHint is what a user does when no server is found or answers.
const reachHint = `start the scheduler with 'vigil run' (on this machine the commands find it with no flags), or
name one with --server URL and --token-file FILE, or save it with 'vigil config set-context'`

// ExitCode maps a command's error to the process's exit status (package
// exitcode's table).
func ExitCode(err error) int {
	if err == nil {
		return exitcode.OK
	}
	if code, ok := exitcode.Of(err); ok {
		return code
	}
	var found *FoundError
	var usage *UsageError
	var noServer *NoServerError
	var apiErr *client.APIError
	switch {
	case errors.As(err, &found):
		return exitcode.Found
	case errors.As(err, &usage):
		return exitcode.Usage
	case errors.As(err, &noServer):
		return exitcode.Unreachable
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusServiceUnavailable:
		// The scheduler answers but cannot serve (its database is not
		// open yet, or out of reach): as good as unreachable.
		return exitcode.Unreachable
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
		// The server found the arguments wrong (a bad --cursor, a conf
		// key the DAG does not declare, a date it cannot read).
		return exitcode.Usage
	case errors.As(err, &apiErr):
		return exitcode.Error
	case Unreachable(err):
		return exitcode.Unreachable
	}
	return exitcode.Error
}

// Unreachable reports whether err means the server could not be reached:
// refused, a dial that failed, a request that timed out.
func Unreachable(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	// A request that ran out of --request-timeout: the server did not
	// answer in time.
	return (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)) && !errors.As(err, new(*client.APIError))
}

// ExplainUnreachable adds what to do to an error that means the server
// could not be reached; other errors are returned as they are.
func ExplainUnreachable(err error, server string) error {
	if err == nil || !Unreachable(err) {
		return err
	}
	return &NoServerError{Err: err, Msg: "the API at " + server + " does not answer: " + reachHint}
}

// ExactArgs is cobra.ExactArgs with a UsageError naming the arguments.
func ExactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return Usagef("%s takes %s; got %d argument(s)", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}

// NoArgs is cobra.NoArgs with a UsageError.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef("%s takes no arguments; got %q", cmd.CommandPath(), args)
	}
	return nil
}
