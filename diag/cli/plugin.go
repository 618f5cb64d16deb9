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

var (
	// exampleCommand is "diag " at the start of an example line.
	exampleCommand = regexp.MustCompile(`(?m)^([ \t]*)diag `)
	// longCommand is an indented command line in a long description.
	longCommand = regexp.MustCompile(`(?m)^([ \t]+)diag (.*)$`)
	// quotedCommand is a command quoted in prose: 'diag bundle ls'.
	quotedCommand = regexp.MustCompile(`'diag `)
)

// pluginExamples makes the examples and the commands in the long
// descriptions of cmd and every command under it say "kubectl diag", as
// they are typed with the plugin; but not a command run inside the pod
// ("kubectl exec ... -- diag attach"), where diag is not a plugin.
func pluginExamples(cmd *cobra.Command) {
	cmd.Example = exampleCommand.ReplaceAllString(cmd.Example, "${1}kubectl diag ")
	cmd.Long = longCommand.ReplaceAllStringFunc(cmd.Long, func(line string) string {
		if strings.Contains(line, "inside the pod") {
			return line
		}
		return longCommand.ReplaceAllString(line, "${1}kubectl diag ${2}")
	})
	cmd.Long = quotedCommand.ReplaceAllString(cmd.Long, "'kubectl diag ")
	for _, c := range cmd.Commands() {
		pluginExamples(c)
	}
}
