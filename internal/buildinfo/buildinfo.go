// Package buildinfo says which build of Vigil is running: the version
// `make build` stamps into every binary at link time, or, for a plain
// `go build` or `go run`, one made from the VCS revision the Go toolchain
// records ("devel-<12 hex>[-dirty]"). It never says "(devel)", which
// tells an on-call engineer nothing about what is deployed.
//
// `make build` links with
//
//	-ldflags "-X github.com/vigilhq/vigil/internal/buildinfo.version=$(git describe --tags --always --dirty)"
//
// and vigil version, diag version, the debug API's /info and the
// vigil_build_info metric all read Get.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version and revision are set at link time (-ldflags -X); empty in a
// plain go build.
var (
	version  string
	revision string
)

// Info identifies a build.
type Info struct {
	// Version is the stamped version (a tag, "v0.4.0-3-g1a2b3c4d5e6f",
	// or a bare revision with -dirty), else "devel-<12 hex>[-dirty]",
	// else a module version (go install ...@v1.2.3), else "devel".
	Version string `json:"version"`
	// Revision is the full VCS revision, when known.
	Revision string `json:"revision,omitempty"`
	// Modified is whether the working tree had uncommitted changes.
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
}

// Get returns the running binary's build.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return from(version, revision, bi)
}

// from is Get on the stamped values and the toolchain's build info (nil
// when the binary has none).
func from(stamped, stampedRev string, bi *debug.BuildInfo) Info {
	info := Info{Version: stamped, Revision: stampedRev, GoVersion: runtime.Version()}
	var vcsRev string
	var vcsModified bool
	mainVersion := ""
	if bi != nil {
		mainVersion = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsRev = s.Value
			case "vcs.modified":
				vcsModified = s.Value == "true"
			}
		}
	}
	if info.Revision == "" {
		info.Revision = vcsRev
	}
	if vcsRev != "" && info.Revision == vcsRev {
		info.Modified = vcsModified
	}
	if stamped != "" {
		info.Modified = info.Modified || strings.HasSuffix(stamped, "-dirty")
		return info
	}
	switch {
	case vcsRev != "":
		info.Version = "devel-" + short(vcsRev)
		if vcsModified {
			info.Version += "-dirty"
		}
	case mainVersion != "" && mainVersion != "(devel)":
		// go install github.com/vigilhq/vigil/cmd/vigil@v1.2.3 records
		// the module version and no VCS settings.
		info.Version = mainVersion
	default:
		// A test binary, or a build with -buildvcs=false.
		info.Version = "devel"
	}
	return info
}

// Short is a revision's first 12 hex digits.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
