// Package iostreams holds where a diag command reads and writes, and
// whether that is a terminal: every command writes through an IOStreams
// it is given, so tests capture output and pipes get plain text.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are a command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY, errTTY bool
	width          func() int
	height         func() int
}

// System returns the process's own streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.outTTY = term.IsTerminal(int(os.Stdout.Fd()))
	s.errTTY = term.IsTerminal(int(os.Stderr.Fd()))
	s.width = func() int {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
			return w
		}
		return 120
	}
	s.height = func() int {
		if _, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil && h > 0 {
			return h
		}
		return 24
	}
	return s
}

// Test returns streams over buffers, not a terminal, and the buffers.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, width: func() int { return 120 }}, in, out, errOut
}

// SetTTY marks the streams as terminals (or not), for tests.
func (s *IOStreams) SetTTY(tty bool) { s.outTTY, s.errTTY = tty, tty }

// IsStdoutTTY reports whether standard output is a terminal: then
// commands may redraw, show countdowns and use the screen's width.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether standard error is a terminal (progress
// goes there).
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// Width is the terminal's width, or 120 when not a terminal.
func (s *IOStreams) Width() int {
	if s.width == nil {
		return 120
	}
	return s.width()
}

// Height is the terminal's height in lines, or 24 when not a terminal.
func (s *IOStreams) Height() int {
	if s.height == nil {
		return 24
	}
	return s.height()
}

// SetSize sets the terminal's size, for tests.
func (s *IOStreams) SetSize(width, height int) {
	s.width = func() int { return width }
	s.height = func() int { return height }
}
