package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestAPIConfig: the config file's api: section, and the flags over it
// (--api-token replaces the file's tokens).
func TestAPIConfig(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "ops.token")
	if err := os.WriteFile(tok, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(dir, "ro.token")
	if err := os.WriteFile(ro, []byte("fedcba9876543210fedcba9876543210\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(cfgFile, []byte(`api:
  addr: 0.0.0.0:9000
  tls_cert: api.crt
  tls_key: api.key
  tokens:
    - {name: ops, role: operator, file: `+tok+`}
    - {name: grafana, role: read-only, file: `+ro+`}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Addr != "0.0.0.0:9000" || cfg.API.TLSCert != "api.crt" || cfg.API.TLSKey != "api.key" || len(cfg.API.Tokens) != 2 {
		t.Fatalf("api section read as %+v", cfg.API)
	}
	toks, err := apiTokens(cfg.API)
	if err != nil || len(toks) != 2 || toks[0].Name != "ops" || toks[1].Role != "read-only" || toks[0].Secret != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("tokens %+v, %v", toks, err)
	}

	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	o := bindRunFlags(fs)
	if err := fs.Parse([]string{"--api-addr", "127.0.0.1:0", "--api-token", "alice:operator:" + tok}); err != nil {
		t.Fatal(err)
	}
	o.apply(&cfg)
	toks, err = apiTokens(cfg.API)
	if cfg.API.Addr != "127.0.0.1:0" || err != nil || len(toks) != 1 || toks[0].Name != "alice" {
		t.Errorf("after flags: %+v, tokens %+v, %v; want the flag's address and its one token", cfg.API, toks, err)
	}
	if d := defaultConfig().API.Addr; d != "127.0.0.1:8975" {
		t.Errorf("default api addr %q", d)
	}
}

func TestAPITokenRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "0123456789abcdef0123456789abcdef", 0o600)
	tests := []struct {
		name, spec string
		wantIn     []string
	}{
		{"no role", "alice:" + good, []string{"NAME:ROLE:FILE"}},
		{"bad role", "alice:admin:" + good, []string{"admin", "read-only", "operator"}},
		{"missing file", "alice:operator:" + filepath.Join(dir, "nope"), []string{"alice", "nope"}},
		{"readable by others", "alice:operator:" + write("loose", "0123456789abcdef0123456789abcdef", 0o644), []string{"chmod 600", "loose"}},
		{"empty", "alice:operator:" + write("empty", "\n", 0o600), []string{"empty", "0 characters", "openssl rand"}},
		{"short", "alice:operator:" + write("short", "abc", 0o600), []string{"short", "3 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := apiTokens(apiConfig{TokenSpecs: []string{tt.spec}})
			if err == nil {
				t.Fatalf("%s: accepted", tt.spec)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q; want it to say %q", err, s)
				}
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8975": true, "[::1]:8975": true, "localhost:1": true, "127.0.0.2:0": true,
		":8975": false, "0.0.0.0:8975": false, "10.0.0.1:8975": false, "example.com:80": false, "nonsense": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v; want %v", addr, got, want)
		}
	}
}
