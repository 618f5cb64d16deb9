package wiretrace

import "github.com/vigilhq/vigil/diag/debugapi"

// Mode is how much of each exchange the Tracer keeps. Every mode, Off
// included, registers calls in flight, calls Options.Observe and counts
// Stats; the modes differ only in what the ring keeps. It is the debug
// API's debugapi.WireMode: on the wire, its name.
type Mode = debugapi.WireMode

const (
	// Off keeps nothing in the ring.
	Off = debugapi.WireOff
	// Summary keeps one line per exchange: method, redacted URL,
	// Kubernetes verb and resource, status, error, duration, byte counts
	// and connection phases. It clones no headers and captures no bodies.
	Summary = debugapi.WireSummary
	// Headers adds the redacted request and response headers.
	Headers = debugapi.WireHeaders
	// Bodies adds the first BodyLimit bytes of each body, redacted.
	Bodies = debugapi.WireBodies
)

// validModes is the list a user sees when a mode name is not understood.
const validModes = "off, summary, headers, bodies"

// ErrUnknownMode is returned, wrapped, by ParseMode for a name that is not
// a mode.
var ErrUnknownMode = debugapi.ErrUnknownWireMode

// ParseMode returns the mode named s ("off", "summary", "headers",
// "bodies"; case and surrounding space do not matter). The error for any
// other name lists the valid ones and wraps ErrUnknownMode.
func ParseMode(s string) (Mode, error) { return debugapi.ParseWireMode(s) }
