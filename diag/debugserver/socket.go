package debugserver

import "github.com/vigilhq/vigil/diag/debugapi"

// The runtime directory, the socket's name and their discovery are part
// of the wire contract (package debugapi): diag finds the socket by the
// same rules. They are repeated here for the server's callers.

// EnvDir names the environment variable that overrides the runtime
// directory, for both the server and the diag CLI.
const EnvDir = debugapi.EnvDir

// Endpoint is a debug socket found in a runtime directory.
type Endpoint = debugapi.Endpoint

// DefaultDir is the runtime directory the server puts its socket in and
// `diag` looks in when given no flags (debugapi.DefaultDir).
func DefaultDir() string { return debugapi.DefaultDir() }

// SocketPath is the socket of process pid in dir: vigil-<pid>.sock.
func SocketPath(dir string, pid int) string { return debugapi.SocketPath(dir, pid) }

// Discover lists the debug sockets in dir, live processes first, then by
// pid (debugapi.Discover).
func Discover(dir string) ([]Endpoint, error) { return debugapi.Discover(dir) }
