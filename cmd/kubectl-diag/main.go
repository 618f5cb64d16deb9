// Command kubectl-diag is diag installed as a kubectl plugin: with it on
// $PATH, `kubectl diag attach --pod ...` works like `diag attach --pod ...`.
package main

import (
	"os"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/buildinfo"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], iostreams.System(), buildinfo.Get().Version))
}
