package debugapi

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// BundleInfo describes a written bundle: GET /bundles lists them, POST
// /bundles returns the one it wrote.
type BundleInfo struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	Time    time.Time `json:"time,omitzero"`
	Reason  string    `json:"reason,omitempty"`
	Summary string    `json:"summary,omitempty"`
	// Took is how long writing it took.
	Took time.Duration `json:"took_ns,omitempty"`
	// Errors are the parts that failed.
	Errors []string `json:"errors,omitempty"`
	// DirError says why the bundle is not in the bundle folder (it is in
	// a fallback folder, see Path).
	DirError string `json:"dir_error,omitempty"`
}

// MaxBundleNameLen bounds a bundle's file name: the longest name most
// filesystems take.
const MaxBundleNameLen = 255

var bundleNameChars = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// CheckBundleName reports whether name can be a bundle's file name:
// vigil-bundle-….tar.gz, a base name of letters, digits, '_', '-' and '.'
// (never ".."), at most MaxBundleNameLen bytes. diag saves a bundle under
// the name the scheduler gives it, so a name that is not one could write
// anywhere ("../../x") or clobber a file beside it ("go.mod"): issue 16.
// The server names its bundles so that they pass, and takes only such
// names in GET /bundles/{name}.
func CheckBundleName(name string) error {
	why := ""
	switch {
	case name == "":
		why = "empty"
	case len(name) > MaxBundleNameLen:
		why = fmt.Sprintf("%d bytes long, over %d", len(name), MaxBundleNameLen)
	case strings.ContainsAny(name, `/\`) || filepath.Base(name) != name:
		why = "a path, not a file name"
	case strings.Contains(name, ".."):
		why = `it holds ".."`
	case !bundleNameChars.MatchString(name):
		why = "characters other than letters, digits, '_', '-' and '.'"
	case !strings.HasPrefix(name, "vigil-bundle-") || !strings.HasSuffix(name, ".tar.gz"):
		why = "not vigil-bundle-….tar.gz"
	default:
		return nil
	}
	shown := name
	if len(shown) > 120 {
		shown = shown[:120] + "…"
	}
	return fmt.Errorf("%q is not a bundle name (%s): bundles are named like vigil-bundle-20261123T120501123Z-stale.tar.gz", shown, why)
}
