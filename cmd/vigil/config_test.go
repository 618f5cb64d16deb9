package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigilhq/vigil/scheduler/notify"
)

func TestConfigLayers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		file    string
		args    []string
		check   func(t *testing.T, c config)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, c config) {
			if c.DB != "vigil.db" || c.DAGs != "./dags" || c.HealthAddr != ":8974" || c.Executor != "local" {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "file over defaults, flags over file",
			file: write("a.yaml", "dags: /srv/dags\nparallelism: 8\nkill_grace: 3s\n"),
			args: []string{"--parallelism", "4"},
			check: func(t *testing.T, c config) {
				if c.DAGs != "/srv/dags" || c.Parallelism != 4 || c.KillGrace != 3*time.Second || c.DB != "vigil.db" {
					t.Errorf("layers: %+v", c)
				}
			}},
		{name: "empty file means defaults", file: write("empty.yaml", ""), check: func(t *testing.T, c config) {
			if c.Parallelism != 32 {
				t.Errorf("empty file: %+v", c)
			}
		}},
		{name: "unknown key names the file and line", file: write("typo.yaml", "dags: x\nparalelism: 3\n"),
			wantErr: "typo.yaml:2:1: unknown key \"paralelism\"; did you mean \"parallelism\"?"},
		{name: "missing file", file: filepath.Join(dir, "nope.yaml"), wantErr: "nope.yaml: no such file"},
		{name: "retention off by default, days in the file, flag over file",
			file: write("ret.yaml", "retention: 30d\n"),
			check: func(t *testing.T, c config) {
				if time.Duration(c.Retention) != 30*24*time.Hour {
					t.Errorf("retention: %s; want 30d", c.Retention.String())
				}
				if defaultConfig().Retention != 0 {
					t.Errorf("default retention %s; want off", defaultConfig().Retention.String())
				}
			}},
		{name: "retention flag", args: []string{"--retention", "12h"}, check: func(t *testing.T, c config) {
			if time.Duration(c.Retention) != 12*time.Hour {
				t.Errorf("retention: %s; want 12h", c.Retention.String())
			}
		}},
		{name: "bad retention names the file and line", file: write("badret.yaml", "dags: x\nretention: 30 days\n"),
			wantErr: "badret.yaml:2:12: retention: age \"30 days\": use a duration such as 30d, 12h or 90m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("VIGIL_CONFIG", "")
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			o := bindRunFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(tt.file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o.apply(&c)
			tt.check(t, c)
		})
	}
}

func TestConfigPresets(t *testing.T) {
	var c config
	c.Presets = map[string]presetConfig{"gpu": {CPU: "8", Memory: "32Gi"}, "bad": {Memory: "lots"}}
	if _, err := c.presets(); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Fatalf("a bad preset quantity was accepted or not named: %v", err)
	}
	delete(c.Presets, "bad")
	p, err := c.presets()
	if err != nil {
		t.Fatal(err)
	}
	if p["gpu"].Memory != "32Gi" || p["small"].CPU == "" {
		t.Fatalf("presets = %+v, want gpu added to the defaults", p)
	}
}

// TestRedactedConfigHidesCredentials: the bundle's config.yaml keeps the
// settings and drops the credentials of every database URL form and of
// the Pyroscope address (issue 16).
func TestRedactedConfigHidesCredentials(t *testing.T) {
	const pw = "CfgSecret-77aa"
	for _, db := range []string{
		"postgres://vigil:" + pw + "@db:5432/vigil?sslmode=require",
		"postgresql://vigil@db/vigil?password=" + pw + "&sslpassword=" + pw,
		"postgres://vigil@db/vigil?token=" + pw,
		"host=db user=vigil password=" + pw + " dbname=vigil",
		"host=db user=vigil password='" + pw + " x' dbname=vigil",
	} {
		cfg := defaultConfig()
		cfg.DB = db
		cfg.Debug.Pyroscope.ServerAddress = "https://" + pw + "@profiles.example:443"
		out := string(redactedConfig(cfg))
		if strings.Contains(out, pw) {
			t.Errorf("config.yaml for --db %q leaks the password:\n%s", db, out)
		}
		if !strings.Contains(out, "vigil") || !strings.Contains(out, "REDACTED") {
			t.Errorf("config.yaml for --db %q: want the setting kept, its credentials REDACTED:\n%s", db, out)
		}
	}
}

// TestRedactedConfigHidesReceiverSecrets: a receiver's url (a Slack
// webhook's is its key) and header values are REDACTED in the bundle's
// config.yaml; names, types and file paths stay (issue 20).
func TestRedactedConfigHidesReceiverSecrets(t *testing.T) {
	const key = "XoXbSecretHook99"
	cfg := defaultConfig()
	cfg.Notifications.Receivers = []notify.ReceiverConfig{
		{Name: "ops-slack", Type: "slack", URL: "https://hooks.slack.example/services/T0/B0/" + key},
		{Name: "ops-hook", Type: "webhook", URLFile: "/etc/vigil/hook-url", Headers: map[string]string{"X-Api-Key": key}},
	}
	out := string(redactedConfig(cfg))
	if strings.Contains(out, key) {
		t.Errorf("config.yaml leaks a receiver secret:\n%s", out)
	}
	for _, want := range []string{"ops-slack", "ops-hook", "/etc/vigil/hook-url", "X-Api-Key", "REDACTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, out)
		}
	}
}

// TestNotificationsConfig: receivers are read from the config file, with
// their secrets from files and the environment; a mistake names its key.
func TestNotificationsConfig(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "slack-url")
	if err := os.WriteFile(urlFile, []byte("https://hooks.example/services/A/B/C\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_TEST_AM_TOKEN", "am-token")
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := loadConfig(write(`notifications:
  receivers:
    - {name: ops-slack, type: slack, url_file: ` + urlFile + `}
    - {name: am, type: alertmanager, url: "http://127.0.0.1:9093", token_env: VIGIL_TEST_AM_TOKEN, timeout: 3s, max_attempts: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := cfg.Notifications.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].URL != "https://hooks.example/services/A/B/C" || rs[0].Timeout != notify.DefaultTimeout ||
		rs[0].MaxAttempts != notify.DefaultMaxAttempts || rs[1].Token != "am-token" || rs[1].Timeout != 3*time.Second || rs[1].MaxAttempts != 2 {
		t.Errorf("receivers %+v", rs)
	}
	for _, tt := range []struct{ name, body, want string }{
		{"unknown type", `{name: x, type: email, url: "http://a"}`, `config notifications.receivers[0] (x).type: "email" is not a receiver type`},
		{"no url", `{name: x, type: webhook}`, `config notifications.receivers[0] (x): give url`},
		{"bad url", `{name: x, type: webhook, url: "ftp://a"}`, `the url is not an http:// or https:// URL`},
		{"no name", `{type: webhook, url: "http://a"}`, `config notifications.receivers[0]: give the receiver a name`},
		{"unset env", `{name: x, type: webhook, url: "http://a", token_env: VIGIL_TEST_UNSET_TOKEN}`, `token_env: $VIGIL_TEST_UNSET_TOKEN is empty or unset`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(write("notifications:\n  receivers:\n    - " + tt.body + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cfg.Notifications.Load(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
