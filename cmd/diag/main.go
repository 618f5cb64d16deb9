// Command diag shows what a running Vigil scheduler is doing: see
// `diag --help` and package github.com/vigilhq/vigil/diag/cli.
package main

import (
	"os"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	os.Exit(cli.Main(os.Args[1:], iostreams.System(), version))
}
