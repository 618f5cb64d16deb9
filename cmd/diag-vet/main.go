// Command diag-vet is diag vet's analyzers as a standalone checker, for
// go vet:
//
//	go install github.com/vigilhq/vigil/cmd/diag-vet
//	go vet -vettool=$(which diag-vet) ./...
//
// or on its own: diag-vet ./... (diag-vet help lists the checks). See
// package github.com/vigilhq/vigil/diag/vet for what each reports.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/vigilhq/vigil/diag/vet"
)

func main() { multichecker.Main(vet.Analyzers()...) }
