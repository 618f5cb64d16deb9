// Package debugapi is the wire contract of a Vigil process's debug API
// (issue 19): the paths, the JSON types that cross the socket, and the
// rules both ends follow to find the socket and read a token. The server
// (package debugserver and the packages that produce what it serves:
// watchdog, inflight, stacks, wiretrace, bundle) writes these types; the
// Go client (package client) and so the diag CLI read them.
//
// It imports the standard library only, and nothing of the process it
// describes, so that a client built on it carries none of the server:
//
//	diag/client ──> diag/debugapi <── diag/debugserver, watchdog, inflight,
//	                                  stacks, wiretrace, bundle
//
// The producing packages name these types with aliases where their users
// already spell them so (inflight.Call is debugapi.Call; watchdog.Status
// is debugapi.HeartbeatStatus); stacks.Snapshot is a defined type over
// debugapi.Snapshot that adds the text rendering, and converts to it.
//
// # Compatibility
//
// The JSON is read by diag binaries of other versions, by the console
// and by scripts (diag -o json). Fields are only ever added; a client
// decodes the fields it knows. testdata/wire holds the golden JSON of each
// type, captured before the types moved here; the test fails when a
// change would alter what goes on the wire.
//
// Durations are integer nanoseconds in fields whose names end in _ns;
// times are RFC 3339 with nanoseconds. Errors are {"error": "..."}
// (Error) with a status other than 2xx.
package debugapi
