package redact

import (
	"reflect"
	"strings"
	"testing"
)

// The secret every case below plants; no output may contain it.
const pw = "Hunter2Secret"

func TestURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"postgres password", "postgres://vigil:" + pw + "@db:5432/vigil?sslmode=require", "postgres://vigil:REDACTED@db:5432/vigil?sslmode=require"},
		{"postgres role only", "postgresql://vigil@db/vigil", "postgresql://vigil@db/vigil"},
		{"password parameter", "postgres://vigil@db/vigil?sslmode=disable&password=" + pw, "postgres://vigil@db/vigil?sslmode=disable&password=REDACTED"},
		{"both", "postgres://u:" + pw + "@h/d?password=" + pw + "&sslpassword=" + pw + "&token=" + pw,
			"postgres://u:REDACTED@h/d?password=REDACTED&sslpassword=REDACTED&token=REDACTED"},
		{"token as http user", "http://" + pw + "@pyroscope:4040", "http://REDACTED@pyroscope:4040"},
		{"basic auth", "https://123456:" + pw + "@profiles.example", "https://123456:REDACTED@profiles.example"},
		{"unescaped @ in the password", "postgres://u:" + pw + "@x@h/d", "postgres://u:REDACTED@h/d"},
		{"keyword DSN", "host=db user=vigil password=" + pw + " dbname=vigil", "host=db user=vigil password=REDACTED dbname=vigil"},
		{"keyword DSN quoted", "host=db password='" + pw + " with spaces' sslpassword = " + pw + " dbname=x",
			"host=db password=REDACTED sslpassword = REDACTED dbname=x"},
		{"file", "/var/lib/vigil/vigil.db", "/var/lib/vigil/vigil.db"},
		{"plain URL", "http://127.0.0.1:4040", "http://127.0.0.1:4040"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := URL(tt.in)
			if got != tt.want {
				t.Errorf("URL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if strings.Contains(got, pw) {
				t.Errorf("URL(%q) = %q leaks the password", tt.in, got)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"URL in a log line", `uploading at http://user:` + pw + `@h:4040/ingest?name=vigil`, `uploading at http://user:REDACTED@h:4040/ingest?name=vigil`},
		{"token user in an error", `Post "http://` + pw + `@h/ingest": EOF`, `Post "http://REDACTED@h/ingest": EOF`},
		{"DSN parameter", `connect postgres://u@h/d?password=` + pw + `: refused`, `connect postgres://u@h/d?password=REDACTED refused`},
		{"bearer", "Authorization: Bearer " + pw, "Authorization: Bearer REDACTED"},
		{"flag", "--api-key=" + pw + " --v=2", "--api-key=REDACTED --v=2"},
		{"address in a path stays", "see https://h/users/a@b.c", "see https://h/users/a@b.c"},
		{"nothing", "connection refused", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	in := []string{"vigil", "run", "--db", "postgres://vigil:" + pw + "@db/vigil?token=" + pw, "--db=postgresql://u:p%40" + pw + "@h/x",
		"--pyroscope-url", "http://" + pw + "@host", "--password", pw, "--debug-token-file", "/run/token", "http://host/path"}
	want := []string{"vigil", "run", "--db", "postgres://vigil:REDACTED@db/vigil?token=REDACTED", "--db=postgresql://u:REDACTED@h/x",
		"--pyroscope-url", "http://REDACTED@host", "--password", "REDACTED", "--debug-token-file", "/run/token", "http://host/path"}
	got := Args(in)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Args\n got %q\nwant %q", got, want)
	}
	if in[3] == got[3] {
		t.Error("Args modified its argument")
	}
}
