package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigilhq/vigil/api"
)

// Token is a bearer token the API accepts: its secret, the name recorded
// as the actor of what it does, and its role (api.RoleReadOnly or
// api.RoleOperator).
type Token struct {
	Name   string
	Role   string
	Secret string
}

// MinTokenLen is the shortest secret accepted.
const MinTokenLen = 16

// CheckToken says what is wrong with a token, naming it.
func CheckToken(t Token) error {
	switch {
	case t.Name == "":
		return fmt.Errorf("api token with no name: give each token a name (NAME:ROLE:FILE)")
	case t.Role != api.RoleReadOnly && t.Role != api.RoleOperator:
		return fmt.Errorf("api token %s: role %q: use %s or %s", t.Name, t.Role, api.RoleReadOnly, api.RoleOperator)
	case len(t.Secret) < MinTokenLen:
		return fmt.Errorf("api token %s is %d characters: use at least %d random ones (openssl rand -hex 32)", t.Name, len(t.Secret), MinTokenLen)
	}
	return nil
}

type authenticator struct {
	tokens []Token
	sums   [][32]byte
}

func newAuthenticator(tokens []Token) (*authenticator, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("server: no api token configured")
	}
	a := &authenticator{}
	names := map[string]bool{}
	for _, t := range tokens {
		if err := CheckToken(t); err != nil {
			return nil, err
		}
		if names[t.Name] {
			return nil, fmt.Errorf("api token %s is configured twice: give each token its own name", t.Name)
		}
		names[t.Name] = true
		a.tokens = append(a.tokens, t)
		a.sums = append(a.sums, sha256.Sum256([]byte(t.Secret)))
	}
	return a, nil
}

// find returns the token with this secret. It compares the secrets'
// digests in constant time, all of them, so the answer's timing says
// nothing of which or how much of one matched.
func (a *authenticator) find(secret string) (Token, bool) {
	sum := sha256.Sum256([]byte(secret))
	found := -1
	for i := range a.sums {
		if subtle.ConstantTimeCompare(sum[:], a.sums[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Token{}, false
	}
	return a.tokens[found], true
}

type tokenKey struct{}

// tokenOf is the token a request was authenticated with.
func tokenOf(r *http.Request) Token {
	t, _ := r.Context().Value(tokenKey{}).(Token)
	return t
}

// require lets a request through with a known token of role or above.
func (a *authenticator) require(role string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "no bearer token: send 'Authorization: Bearer TOKEN' (vigil run writes a local one in its runtime folder; see the README's Operations API section)")
			return
		}
		t, ok := a.find(strings.TrimSpace(secret))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "unknown bearer token: use a token configured with --api-token (or the local one vigil run wrote)")
			return
		}
		if slot, ok := r.Context().Value(tokenSlotKey{}).(*tokenSlot); ok {
			slot.t = t // for observe's log line, refused or not
		}
		if role == api.RoleOperator && t.Role != api.RoleOperator {
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("token %s is %s: %s %s needs an %s token", t.Name, t.Role, r.Method, r.URL.Path, api.RoleOperator))
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t)))
	})
}
