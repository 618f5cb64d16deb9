package server

import (
	"fmt"
	"strings"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/diag/debugapi"
)

// ParseTokenSpec reads --api-token NAME:ROLE:FILE and the token in FILE.
func ParseTokenSpec(spec string) (Token, error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return Token{}, fmt.Errorf("--api-token %q: use NAME:ROLE:FILE, e.g. alice:%s:/etc/vigil/alice.token", spec, api.RoleOperator)
	}
	return LoadToken(parts[0], parts[1], parts[2])
}

// LoadToken reads token name's secret from path and checks it. As for
// the debug token (debugapi.ReadToken), a file other users may read or
// change is refused: whoever reads it acts as name.
func LoadToken(name, role, path string) (Token, error) {
	if role != api.RoleReadOnly && role != api.RoleOperator {
		return Token{}, fmt.Errorf("api token %s: role %q: use %s or %s", name, role, api.RoleReadOnly, api.RoleOperator)
	}
	secret, err := debugapi.ReadToken(path)
	if err != nil {
		return Token{}, fmt.Errorf("api token %s: %w", name, err)
	}
	t := Token{Name: name, Role: role, Secret: secret}
	if len(t.Secret) < MinTokenLen {
		return Token{}, fmt.Errorf("api token %s: file %s holds %d characters: write at least %d random ones into it (openssl rand -hex 32 > %s)", name, path, len(t.Secret), MinTokenLen, path)
	}
	return t, CheckToken(t)
}
