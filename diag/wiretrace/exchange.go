package wiretrace

import "github.com/vigilhq/vigil/diag/debugapi"

// Exchange is one HTTP request and its response as the ring keeps it.
// Everything in it is redacted (see the package doc). The debug API sends
// it as is.
type Exchange = debugapi.Exchange

// Phases are the connection timings of an exchange from
// net/http/httptrace, zero in Off mode and for phases that did not happen
// (a reused connection has no DNS, Connect or TLS).
type Phases = debugapi.Phases
