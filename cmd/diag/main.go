// Command diag shows what a running Vigil scheduler is doing: see
// `diag --help` and package github.com/vigilhq/vigil/diag/cli.
package main

import (
	"os"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/buildinfo"

	// DAG time zones must load in an image with no zoneinfo files.
	_ "time/tzdata"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], iostreams.System(), buildinfo.Get().Version))
}
