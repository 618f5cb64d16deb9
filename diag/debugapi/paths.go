package debugapi

import "time"

// APIVersion is the version in every path.
const APIVersion = "v1"

// Prefix is the path prefix of every endpoint: /debug/v1/.
const Prefix = "/debug/" + APIVersion + "/"

// MaxDuration is the longest profile, trace or long poll the server
// takes; a longer ?seconds= is refused with 400.
const MaxDuration = 5 * time.Minute

// Paths are the endpoints below Prefix, as the index (GET Prefix) lists
// them. See package debugserver for what each serves.
var Paths = []string{
	"info", "heartbeats", "inflight", "stacks", "pprof/", "pprof/profile", "pprof/wall", "pprof/trace",
	"flightrecorder", "wiretrace", "wiretrace/mode", "loglevel", "tasks", "bundles",
}

// Index is the body of GET Prefix.
type Index struct {
	API       string   `json:"api"`
	Endpoints []string `json:"endpoints"`
	Service   string   `json:"service"`
}

// Error is the body of every answer whose status is not 2xx.
type Error struct {
	Error string `json:"error"`
}

// LogLevel is the body of GET and PUT /loglevel, both ways: {"level":"debug"}.
type LogLevel struct {
	Level string `json:"level"`
}
