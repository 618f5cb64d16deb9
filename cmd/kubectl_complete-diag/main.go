// Command kubectl_complete-diag completes `kubectl diag <TAB>`: kubectl
// (1.26 and later) runs it, from $PATH beside kubectl-diag, with cobra's
// __complete arguments, and it answers with diag's own completions
// (subcommands, flags, and --pod, -n and --context from the cluster).
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
