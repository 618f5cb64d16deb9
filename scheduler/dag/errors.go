package dag

import (
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a DAG file. Line and Column are 1-based; zero
// when the problem has no place in the file (an empty file, say).
type Error struct {
	File   string
	Line   int
	Column int
	// Task is the id of the task the problem is in, if any.
	Task string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Task != "" {
		fmt.Fprintf(&b, "task %q: ", e.Task)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one file, in the order they appear
// in it. Parse returns one rather than stopping at the first problem, so a
// user fixes a file in one pass.
type ErrorList []*Error

// Error returns one line per problem.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find a single *Error in the list.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sorted returns the list ordered by position, without duplicates. A value
// reached through several YAML aliases is checked once per use, maybe for
// different tasks, and its problem should still be reported once.
func (l ErrorList) sorted() ErrorList {
	out := slices.Clone(l)
	slices.SortStableFunc(out, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return slices.CompactFunc(out, func(a, b *Error) bool {
		return a.File == b.File && a.Line == b.Line && a.Column == b.Column && a.Msg == b.Msg
	})
}

// maxReported bounds the problems reported for one file. Past that many a
// user fixes the first ones shown anyway, and the message is logged and
// stored: it should not grow with the file (issue 16).
const maxReported = 100

// capped returns l with at most maxReported problems, the last of them
// saying how many more there are.
func (l ErrorList) capped(file string) ErrorList {
	if len(l) <= maxReported {
		return l
	}
	keep := maxReported - 1
	more := &Error{File: file, Msg: fmt.Sprintf("%d more problems not shown; fix the ones above, then check the file again with vigil dags validate", len(l)-keep)}
	return append(l[:keep:keep], more)
}
