package debugserver

import (
	"strings"
	"testing"
)

func TestRedactArgs(t *testing.T) {
	got := redactArgs([]string{"vigil", "run", "--db", "postgres://vigil:s3cret@db:5432/vigil?sslmode=require", "--db=postgresql://u:p%40ss@h/x", "http://host/path", "--pyroscope-url", "http://user@host"})
	want := []string{"vigil", "run", "--db", "postgres://vigil:REDACTED@db:5432/vigil?sslmode=require", "--db=postgresql://u:REDACTED@h/x", "http://host/path", "--pyroscope-url", "http://user@host"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("redactArgs:\n got %q\nwant %q", got, want)
	}
}
