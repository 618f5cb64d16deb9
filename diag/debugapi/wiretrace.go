package debugapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// WireMode is how much of each exchange the wire tracer keeps. On the
// wire it is its name: "off", "summary", "headers", "bodies".
type WireMode int32

const (
	// WireOff keeps nothing in the ring.
	WireOff WireMode = iota
	// WireSummary keeps one line per exchange: method, redacted URL,
	// Kubernetes verb and resource, status, error, duration, byte counts
	// and connection phases.
	WireSummary
	// WireHeaders adds the redacted request and response headers.
	WireHeaders
	// WireBodies adds the first bytes of each body, redacted.
	WireBodies
)

// validWireModes is the list a user sees when a mode name is not understood.
const validWireModes = "off, summary, headers, bodies"

// ErrUnknownWireMode is returned, wrapped, by ParseWireMode for a name
// that is not a mode.
var ErrUnknownWireMode = errors.New("unknown wiretrace mode")

// String returns the mode's name as ParseWireMode accepts it.
func (m WireMode) String() string {
	switch m {
	case WireOff:
		return "off"
	case WireSummary:
		return "summary"
	case WireHeaders:
		return "headers"
	case WireBodies:
		return "bodies"
	}
	return fmt.Sprintf("Mode(%d)", int32(m))
}

// Valid reports whether m is one of the four modes.
func (m WireMode) Valid() bool { return m >= WireOff && m <= WireBodies }

// ParseWireMode returns the mode named s ("off", "summary", "headers",
// "bodies"; case and surrounding space do not matter). The error for any
// other name lists the valid ones and wraps ErrUnknownWireMode.
func ParseWireMode(s string) (WireMode, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for m := WireOff; m <= WireBodies; m++ {
		if m.String() == name {
			return m, nil
		}
	}
	return WireOff, fmt.Errorf("%w %q: valid modes are %s", ErrUnknownWireMode, s, validWireModes)
}

// MarshalText encodes the mode as its name, so JSON shows "summary".
func (m WireMode) MarshalText() ([]byte, error) {
	if !m.Valid() {
		return nil, fmt.Errorf("%w %d: valid modes are %s", ErrUnknownWireMode, int32(m), validWireModes)
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes a mode name with ParseWireMode.
func (m *WireMode) UnmarshalText(b []byte) error {
	v, err := ParseWireMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// WireEntries is the body of GET /wiretrace.
type WireEntries struct {
	// Mode is the current mode.
	Mode WireMode `json:"mode"`
	// Entries are the kept exchanges after the requested Seq, oldest
	// first; never null.
	Entries []Exchange `json:"entries"`
	// LastSeq is the Seq to pass as after next time: the last entry's,
	// or the newest kept Seq when there are no entries. A LastSeq below
	// the after a client sent means the process restarted.
	LastSeq uint64 `json:"last_seq"`
	// Missed counts exchanges after the requested Seq that the ring had
	// already dropped.
	Missed uint64 `json:"missed"`
}

// WireModeResponse is the body of GET and PUT /wiretrace/mode.
type WireModeResponse struct {
	Mode WireMode `json:"mode"`
	// Previous is the mode before a PUT or POST changed it.
	Previous *WireMode `json:"previous,omitempty"`
}

// WireModeRequest is the body of PUT /wiretrace/mode: {"mode":"headers"}.
type WireModeRequest struct {
	Mode string `json:"mode"`
}

// Exchange is one HTTP request and its response as the wire tracer's
// ring keeps it. Everything in it is redacted (see package wiretrace).
type Exchange struct {
	// Seq numbers kept exchanges 1, 2, 3... in the order they finished;
	// 0 for an exchange that was not kept (off mode).
	Seq uint64 `json:"seq"`
	// Client is the name the traced client was given.
	Client string `json:"client,omitempty"`
	// Start is when the request was handed to the transport.
	Start  time.Time `json:"start,omitzero"`
	Method string    `json:"method"`
	// URL is the redacted request URL.
	URL string `json:"url"`
	// Host is host:port as dialed.
	Host string `json:"host"`

	// Verb, Group, Version, Resource, Subresource, Namespace and Name
	// describe a Kubernetes API call and are empty for any other request.
	Verb        string `json:"verb,omitempty"`
	Group       string `json:"group,omitempty"`
	Version     string `json:"version,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`

	// Status is the response status code; 0 when there was no response.
	Status int `json:"status"`
	// Err is the transport error or the error that ended reading the
	// body, redacted.
	Err string `json:"error,omitempty"`
	// Streaming marks a response recorded when its headers arrived (a
	// watch, a followed log, an upgrade): Duration is the time to the
	// headers and RespBytes does not count the stream.
	Streaming bool `json:"streaming,omitempty"`
	// Duration runs from Start to the end of the response body (or the
	// error, or the headers of a streaming response).
	Duration time.Duration `json:"duration_ns"`
	// ReqBytes is the request body's declared length, or when it has
	// none the bytes the transport read of it. RespBytes counts the
	// response body bytes the caller read.
	ReqBytes  int64  `json:"req_bytes"`
	RespBytes int64  `json:"resp_bytes"`
	Phases    Phases `json:"phases"`

	// ReqHeaders and RespHeaders are kept in headers and bodies mode.
	ReqHeaders  http.Header `json:"req_headers,omitempty"`
	RespHeaders http.Header `json:"resp_headers,omitempty"`
	// ReqBody and RespBody are kept in bodies mode: the first bytes,
	// then "…[truncated N bytes]".
	ReqBody  string `json:"req_body,omitempty"`
	RespBody string `json:"resp_body,omitempty"`
}

// Phases are the connection timings of an exchange from
// net/http/httptrace, zero in off mode and for phases that did not happen
// (a reused connection has no DNS, Connect or TLS).
type Phases struct {
	DNS     time.Duration `json:"dns_ns"`
	Connect time.Duration `json:"connect_ns"`
	TLS     time.Duration `json:"tls_ns"`
	// FirstByte is from Start to the first byte of the response.
	FirstByte  time.Duration `json:"first_byte_ns"`
	ConnReused bool          `json:"conn_reused"`
}
