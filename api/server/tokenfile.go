package server

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vigilhq/vigil/api"
)

// maxTokenFile bounds what ReadToken reads: a token is a line.
const maxTokenFile = 4 << 10

// ParseTokenSpec reads --api-token NAME:ROLE:FILE and the token in FILE.
func ParseTokenSpec(spec string) (Token, error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return Token{}, fmt.Errorf("--api-token %q: use NAME:ROLE:FILE, e.g. alice:%s:/etc/vigil/alice.token", spec, api.RoleOperator)
	}
	return LoadToken(parts[0], parts[1], parts[2])
}

// LoadToken reads token name's secret from path and checks it. Like the
// debug token (debugserver.ReadToken), a file other users may read or
// change is refused: whoever reads it acts as name.
func LoadToken(name, role, path string) (Token, error) {
	if role != api.RoleReadOnly && role != api.RoleOperator {
		return Token{}, fmt.Errorf("api token %s: role %q: use %s or %s", name, role, api.RoleReadOnly, api.RoleOperator)
	}
	f, err := os.Open(path)
	if err != nil {
		return Token{}, fmt.Errorf("api token %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Token{}, fmt.Errorf("api token %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return Token{}, fmt.Errorf("api token %s: %s is not a regular file (mode %s)", name, path, fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return Token{}, fmt.Errorf("api token %s: file %s has mode %#o: other users can read or change it, and the token acts as %s; run chmod 600 %s (in a Kubernetes Secret volume, set defaultMode: 0400)", name, path, perm, name, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return Token{}, fmt.Errorf("api token %s: %s: %w", name, path, err)
	}
	if len(b) > maxTokenFile {
		return Token{}, fmt.Errorf("api token %s: file %s is over %d bytes: it should hold one token", name, path, maxTokenFile)
	}
	t := Token{Name: name, Role: role, Secret: strings.TrimSpace(string(b))}
	if len(t.Secret) < MinTokenLen {
		return Token{}, fmt.Errorf("api token %s: file %s holds %d characters: write at least %d random ones into it (openssl rand -hex 32 > %s)", name, path, len(t.Secret), MinTokenLen, path)
	}
	return t, CheckToken(t)
}
