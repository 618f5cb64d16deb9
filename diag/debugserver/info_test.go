package debugserver_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/debugserver"
)

// TestCredentialsRedacted: /info (its args and extras) and pprof's cmdline
// show the command line and the database URL without their passwords and
// tokens (issue 16). The test sets os.Args, so it does not run in parallel.
func TestCredentialsRedacted(t *testing.T) {
	const pw, tok = "Pw-0f9e8d", "Tok-1a2b3c"
	saved := os.Args
	t.Cleanup(func() { os.Args = saved })
	os.Args = []string{"vigil", "run", "--db", "postgres://vigil:" + pw + "@db/vigil?sslpassword=" + pw,
		"--pyroscope-url=http://" + tok + "@pyroscope:4040", "--password", pw}

	info := debugserver.ProcessInfo("vigil", "", time.Time{}, map[string]string{"db": "host=db password=" + pw})
	shown := strings.Join(info.Args, " ") + " " + info.Extra["db"]
	if !strings.Contains(shown, "postgres://vigil:REDACTED@db/vigil?sslpassword=REDACTED") || !strings.Contains(shown, "password=REDACTED") {
		t.Errorf("info shows %q, want the URLs with their credentials redacted", shown)
	}

	srv := start(t, debugserver.Options{Dir: filepath.Join(t.TempDir(), "run")}, debugserver.Sources{Service: "vigil"})
	c := unixClient(srv.Socket())
	code, body := get(t, c, "http://vigil"+debugserver.Prefix+"pprof/cmdline")
	if code != 200 || !strings.Contains(string(body), "--db\x00postgres://vigil:REDACTED@db") {
		t.Errorf("pprof/cmdline: %d %q, want the command line, NUL-separated, redacted", code, body)
	}
	for _, got := range []string{shown, string(body)} {
		for _, s := range []string{pw, tok} {
			if strings.Contains(got, s) {
				t.Errorf("%q leaks %q", got, s)
			}
		}
	}
}
