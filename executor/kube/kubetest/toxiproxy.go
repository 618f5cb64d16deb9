package kubetest

import (
	"testing"

	"github.com/vigilhq/vigil/internal/toxiproxy"
)

// Toxic adds a toxiproxy toxic to the "apiserver" proxy that stands
// between $KUBECONFIG_TOXIC and the apiserver, and returns a function that
// removes it (also run at the end of the test). kind and attributes are
// toxiproxy's: "timeout" {"timeout": 0} is a black hole, "latency"
// {"latency": ms} delays every byte.
func Toxic(t testing.TB, name, kind, stream string, attributes map[string]int) (remove func()) {
	t.Helper()
	return toxiproxy.Existing(t, "apiserver").Toxic(name, kind, stream, attributes)
}
