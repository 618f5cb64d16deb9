package debugapi

import "time"

// Info is what GET /debug/v1/info returns: which binary, which process,
// for how long.
type Info struct {
	Service    string            `json:"service"`
	Instance   string            `json:"instance,omitempty"`
	Version    string            `json:"version"`
	Revision   string            `json:"revision,omitempty"`
	Modified   bool              `json:"modified,omitempty"`
	GoVersion  string            `json:"go_version"`
	PID        int               `json:"pid"`
	Host       string            `json:"host"`
	Args       []string          `json:"args"`
	Started    time.Time         `json:"started,omitzero"`
	Uptime     time.Duration     `json:"uptime_ns"`
	Goroutines int               `json:"goroutines"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	HeapBytes  uint64            `json:"heap_bytes"`
	Socket     string            `json:"socket,omitempty"`
	BundleDir  string            `json:"bundle_dir,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
	// Modules are the binary's dependencies and their versions.
	Modules []Module `json:"modules,omitempty"`
}

// Module is one dependency from the binary's build info.
type Module struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}
