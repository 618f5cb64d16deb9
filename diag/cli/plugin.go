package cli

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// asPlugin reports whether diag runs as the kubectl plugin: kubectl-diag
// for `kubectl diag ...`, or kubectl_complete-diag, which kubectl runs
// to complete `kubectl diag <TAB>` (cobra's __complete protocol).
func asPlugin(arg0 string) bool {
	base := filepath.Base(arg0)
	return strings.HasPrefix(base, "kubectl-") || strings.HasPrefix(base, "kubectl_complete-")
}

// exampleCommand is "diag " at the start of an example line.
var exampleCommand = regexp.MustCompile(`(?m)^(\s*)diag `)

// pluginExamples makes the examples of cmd and every command under it
// say "kubectl diag", as they are typed with the plugin. Only the
// examples: a long description's "kubectl exec ... -- diag attach" runs
// diag inside the pod, where it is not a plugin.
func pluginExamples(cmd *cobra.Command) {
	cmd.Example = exampleCommand.ReplaceAllString(cmd.Example, "${1}kubectl diag ")
	for _, c := range cmd.Commands() {
		pluginExamples(c)
	}
}
