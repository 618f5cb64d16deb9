package vet

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/go/ssa"
)

// TestBuildSSAPanic: when go/ssa panics on a package (as it did on a
// dependency of jaeger v1.37.0 in the evaluation), the package is left
// unchecked with one diagnostic that says so (from the httpclient check;
// http.Get in it is not reported), and the run goes on; a panic
// would end it with exit status 2, which reads as a usage error.
func TestBuildSSAPanic(t *testing.T) {
	saved := buildPackage
	t.Cleanup(func() { buildPackage = saved })
	buildPackage = func(*ssa.Package) { panic("no types.Object for ast.Ident") }
	analysistest.Run(t, analysistest.TestData(), HTTPClient, "ssapanic")
}
