package wiretrace

import (
	"errors"
	"fmt"
	"strings"
)

// Mode is how much of each exchange the Tracer keeps. Every mode, Off
// included, registers calls in flight, calls Options.Observe and counts
// Stats; the modes differ only in what the ring keeps.
type Mode int32

const (
	// Off keeps nothing in the ring.
	Off Mode = iota
	// Summary keeps one line per exchange: method, redacted URL,
	// Kubernetes verb and resource, status, error, duration, byte counts
	// and connection phases. It clones no headers and captures no bodies.
	Summary
	// Headers adds the redacted request and response headers.
	Headers
	// Bodies adds the first BodyLimit bytes of each body, redacted.
	Bodies
)

// validModes is the list a user sees when a mode name is not understood.
const validModes = "off, summary, headers, bodies"

// ErrUnknownMode is returned, wrapped, by ParseMode for a name that is not
// a mode.
var ErrUnknownMode = errors.New("unknown wiretrace mode")

// String returns the mode's name as ParseMode accepts it.
func (m Mode) String() string {
	switch m {
	case Off:
		return "off"
	case Summary:
		return "summary"
	case Headers:
		return "headers"
	case Bodies:
		return "bodies"
	}
	return fmt.Sprintf("Mode(%d)", int32(m))
}

// valid reports whether m is one of the four modes.
func (m Mode) valid() bool { return m >= Off && m <= Bodies }

// ParseMode returns the mode named s ("off", "summary", "headers",
// "bodies"; case and surrounding space do not matter). The error for any
// other name lists the valid ones and wraps ErrUnknownMode.
func ParseMode(s string) (Mode, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for m := Off; m <= Bodies; m++ {
		if m.String() == name {
			return m, nil
		}
	}
	return Off, fmt.Errorf("%w %q: valid modes are %s", ErrUnknownMode, s, validModes)
}

// MarshalText encodes the mode as its name, so JSON shows "summary".
func (m Mode) MarshalText() ([]byte, error) {
	if !m.valid() {
		return nil, fmt.Errorf("%w %d: valid modes are %s", ErrUnknownMode, int32(m), validModes)
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes a mode name with ParseMode.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
