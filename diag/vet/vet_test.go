package vet_test

import (
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/vigilhq/vigil/diag/vet"
)

// Each analyzer runs on its own package under testdata/src, whose
// // want comments list every finding it must make; everything else in
// the package is a true negative it must leave alone.
func TestAnalyzers(t *testing.T) {
	tests := []struct {
		analyzer *analysis.Analyzer
		pkg      string
	}{
		{vet.HTTPClient, "httpclient"},
		{vet.HTTPClient, "interhttp"},
		{vet.HTTPClient, "interctx"},
		{vet.SQL, "interctx/sqluse"},
		{vet.KubeClient, "kubeclient"},
		{vet.KubeClient, "interkube"},
		{vet.KubeClient, "kubehints"},
		{vet.KubeClient, "kubehints/cmd"},
		{vet.HTTPClient, "httpstream"},
		{vet.HTTPClient, "handed"},
		{vet.SQL, "sqlcontext"},
		{vet.SQL, "sqlcontext/local"},
		{vet.SQL, "sqlcontext/mixed"},
		{vet.SQL, "sqlcontext/testonly"},
		{vet.SQL, "sqlcontext/localquote"},
		{vet.SQL, "sqlcontext/namedpq"},
		{vet.SQL, "sqlcontext/backends/sqlite/meta"},
		{vet.SQL, "sqlcontext/backends/pg/meta"},
		{vet.Dial, "dialtimeout"},
		{vet.Dial, "clientcall"},
		{vet.Dial, "clientbounded"},
		{vet.Dial, "libconns"},
		{vet.Dial, "libconnsok"},
		{vet.HTTPServer, "httpserver"},
		{vet.Ignore, "diagignore"},
	}
	for _, tt := range tests {
		t.Run(tt.analyzer.Name, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), tt.analyzer, tt.pkg)
		})
	}
}

// TestClean runs every analyzer on bounded code: no findings.
func TestClean(t *testing.T) {
	for _, a := range vet.Analyzers() {
		t.Run(a.Name, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), a, "clean")
		})
	}
}

func TestAnalyzersValid(t *testing.T) {
	as := vet.Analyzers()
	if err := analysis.Validate(as); err != nil {
		t.Fatal(err)
	}
	if len(as) != 6 {
		t.Errorf("Analyzers() returns %d analyzers, want 6", len(as))
	}
}
