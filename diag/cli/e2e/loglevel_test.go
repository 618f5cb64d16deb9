package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/cli/loglevel"
)

// TestLogLevel changes a live scheduler's log level and reads it back.
// clitest starts it at debug.
func TestLogLevel(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})
	steps := []struct {
		name string
		args []string
		code int
		out  string // the whole of stdout
		err  string // in stderr
	}{
		{"read", []string{"loglevel"}, 0, "debug\n", ""},
		{"set info", []string{"loglevel", "info"}, 0, "debug -> info\n", ""},
		{"read back", []string{"loglevel"}, 0, "info\n", ""},
		{"set WARN", []string{"loglevel", "WARN"}, 0, "info -> warn\n", ""},
		{"unknown level", []string{"loglevel", "verbose"}, 2, "", "valid levels are debug, info, warn, error"},
		{"unchanged by the mistake", []string{"loglevel"}, 0, "warn\n", ""},
		{"set debug", []string{"loglevel", "debug"}, 0, "warn -> debug\n", ""},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			r := clitest.Run(t, s, tt.args...)
			if r.Code != tt.code || r.Out != tt.out || !strings.Contains(r.Err, tt.err) {
				t.Errorf("diag %s: exit %d, stdout %q, stderr %q; want %d, %q, stderr with %q",
					strings.Join(tt.args, " "), r.Code, r.Out, r.Err, tt.code, tt.out, tt.err)
			}
		})
	}
	t.Run("-o json", func(t *testing.T) {
		r := clitest.Run(t, s, "loglevel", "error", "-o", "json")
		var res loglevel.Result
		if err := json.Unmarshal([]byte(r.Out), &res); err != nil || res != (loglevel.Result{Level: "error", Previous: "debug"}) {
			t.Errorf("loglevel error -o json: exit %d, %v, %+v\n%s", r.Code, err, res, r.Out)
		}
	})
}
