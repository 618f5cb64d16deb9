package debugserver

import (
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/diag/redact"
	"github.com/vigilhq/vigil/internal/buildinfo"
)

// Info is what GET /debug/v1/info returns: which binary, which process,
// for how long.
type Info = debugapi.Info

// Module is one dependency from the binary's build info.
type Module = debugapi.Module

// ProcessInfo describes the running process; started is its start time
// (the uptime is counted from it; zero leaves both empty).
func ProcessInfo(service, instance string, started time.Time, extra map[string]string) Info {
	host, _ := os.Hostname()
	var ms runtime.MemStats
	// ReadMemStats stops the world only briefly (no heap walk).
	runtime.ReadMemStats(&ms)
	info := Info{
		Service: service, Instance: instance, GoVersion: runtime.Version(),
		PID: os.Getpid(), Host: host, Args: redact.Args(os.Args), Started: started,
		Goroutines: runtime.NumGoroutine(), GOMAXPROCS: runtime.GOMAXPROCS(0), HeapBytes: ms.HeapAlloc,
	}
	// The command line and the extras may name a database URL with its
	// password (`vigil run --db postgres://user:pw@...`): /info and every
	// bundle show them.
	if extra != nil {
		info.Extra = make(map[string]string, len(extra))
		for k, v := range extra {
			info.Extra[k] = redact.Text(v)
		}
	}
	if !started.IsZero() {
		info.Uptime = time.Since(started)
	}
	// The stamped version, or devel-<revision>: never "(devel)".
	build := buildinfo.Get()
	info.Version, info.Revision, info.Modified = build.Version, build.Revision, build.Modified
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			v := m.Version
			if m.Replace != nil {
				v += " => " + m.Replace.Path + " " + m.Replace.Version
			}
			info.Modules = append(info.Modules, Module{Path: m.Path, Version: v})
		}
	}
	return info
}
