package bundle

import "github.com/vigilhq/vigil/diag/debugapi"

// MaxNameLen bounds a bundle's file name: the longest name most
// filesystems take.
const MaxNameLen = debugapi.MaxBundleNameLen

// CheckName reports whether name can be a bundle's file name
// (debugapi.CheckBundleName: the rule is part of the wire contract, diag
// checks the names the scheduler gives). Writer names its bundles so that
// they pass.
func CheckName(name string) error { return debugapi.CheckBundleName(name) }
