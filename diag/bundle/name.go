package bundle

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// MaxNameLen bounds a bundle's file name: the longest name most
// filesystems take.
const MaxNameLen = 255

var nameChars = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// CheckName reports whether name can be a bundle's file name:
// vigil-bundle-….tar.gz, a base name of letters, digits, '_', '-' and '.'
// (never ".."), at most MaxNameLen bytes. diag saves a bundle under the
// name the scheduler gives it, so a name that is not one could write
// anywhere ("../../x") or clobber a file beside it ("go.mod"): issue 16.
// Writer names its bundles so that they pass.
func CheckName(name string) error {
	why := ""
	switch {
	case name == "":
		why = "empty"
	case len(name) > MaxNameLen:
		why = fmt.Sprintf("%d bytes long, over %d", len(name), MaxNameLen)
	case strings.ContainsAny(name, `/\`) || filepath.Base(name) != name:
		why = "a path, not a file name"
	case strings.Contains(name, ".."):
		why = `it holds ".."`
	case !nameChars.MatchString(name):
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
