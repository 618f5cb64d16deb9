package version

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	want := buildinfo.Get()
	for _, tt := range []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{"table", nil, func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "VERSION") || !strings.Contains(out, want.Version) || !strings.Contains(out, want.GoVersion) {
				t.Errorf("table:\n%s", out)
			}
		}},
		{"json", []string{"-o", "json"}, func(t *testing.T, out string) {
			var got buildinfo.Info
			if err := json.Unmarshal([]byte(out), &got); err != nil || got != want {
				t.Errorf("-o json = %+v (%v), want %+v:\n%s", got, err, want, out)
			}
			for _, k := range []string{`"version"`, `"go_version"`} {
				if !strings.Contains(out, k) {
					t.Errorf("-o json lacks %s:\n%s", k, out)
				}
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := NewCmdVersion(&cmdutil.Factory{}, nil)
			c.SetOut(&out)
			c.SetArgs(tt.args)
			if err := c.Execute(); err != nil {
				t.Fatal(err)
			}
			tt.check(t, out.String())
		})
	}
	if want.Version == "" || want.Version == "(devel)" {
		t.Errorf("version %q", want.Version)
	}
}
