package wiretrace

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

// What replaces a redacted value.
const (
	redacted = "REDACTED"
	// secretWithheld replaces every body of a request to the secrets
	// resource, and any body that is not valid JSON but names a Secret.
	secretWithheld = "[redacted: Kubernetes Secret]"
	// credentialWithheld replaces the bodies of the calls that mint or
	// review service account tokens.
	credentialWithheld = "[redacted: Kubernetes credential]"
)

// withheldBody returns the placeholder for the bodies of a Kubernetes
// call that carries credentials in every body it has, or "" when its
// bodies may be kept (redacted).
func withheldBody(k kubeCall) string {
	switch {
	case k.Resource == "secrets":
		return secretWithheld
	case k.Resource == "serviceaccounts" && k.Subresource == "token", k.Resource == "tokenreviews":
		return credentialWithheld
	}
	return ""
}

// redactor holds the compiled patterns of redaction; it is built once per
// Tracer and is safe for concurrent use.
type redactor struct {
	bearer   *regexp.Regexp // a bearer token in any text
	keyValue *regexp.Regexp // token=..., password=... in URLs, errors and form bodies
	userinfo *regexp.Regexp // scheme://user:password@ in text
	jsonKV   *regexp.Regexp // "key": value in JSON that does not parse (truncated)
	kind     *regexp.Regexp // "kind": "Secret" in JSON that does not parse
	// proto decodes the Kubernetes protobuf that client-go's typed
	// clients send and accept, so Bodies mode can show it as JSON.
	proto runtime.Decoder
}

func newRedactor() *redactor {
	return &redactor{
		bearer:   regexp.MustCompile(`(?i)(bearer\s+)(?:bearer\s+)*[A-Za-z0-9._~+/=-]+`),
		keyValue: regexp.MustCompile(`(?i)((?:token|secret|password|passwd|api[-_]?key|sig|signature)=)[^&\s"'<>]+`),
		userinfo: regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/\s@"'<>]+@`),
		jsonKV:   regexp.MustCompile(`"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|-?[0-9][0-9.eE+-]*|true|false|null)`),
		kind:     regexp.MustCompile(`"kind"\s*:\s*"Secret(?:List)?"`),
		proto:    scheme.Codecs.UniversalDeserializer(),
	}
}

// text redacts bearer tokens, credential query parameters and URL
// userinfo anywhere in s. Each pattern runs only when a cheap test finds
// what it needs, so the common URL or error costs a few scans.
func (r *redactor) text(s string) string {
	if containsFold(s, "bearer") {
		s = r.bearer.ReplaceAllString(s, "${1}"+redacted)
	}
	if strings.IndexByte(s, '=') >= 0 && (containsFold(s, "token") || containsFold(s, "secret") ||
		containsFold(s, "pass") || containsFold(s, "key") || containsFold(s, "sig")) {
		s = r.keyValue.ReplaceAllString(s, "${1}"+redacted)
	}
	if strings.IndexByte(s, '@') >= 0 && strings.Contains(s, "://") {
		s = r.userinfo.ReplaceAllString(s, "${1}redacted@")
	}
	return s
}

// url returns u as a string without its userinfo or the values of
// credential query parameters. Only a fragment or an opaque URL, which
// have no structure to go by, go through text.
func (r *redactor) url(u *url.URL) string {
	var s string
	if u.User == nil && !suspectQuery(u.RawQuery) {
		s = u.String()
	} else {
		cp := *u
		if cp.User != nil {
			cp.User = url.User("redacted")
		}
		cp.RawQuery = redactQuery(cp.RawQuery)
		s = cp.String()
	}
	if u.Fragment != "" || u.Opaque != "" {
		s = r.text(s)
	}
	return s
}

// error returns err's text with the request URL replaced by its redacted
// form and any other credential redacted.
func (r *redactor) error(err error, u *url.URL, redactedURL string) string {
	s := err.Error()
	if u != nil {
		if raw := u.String(); raw != "" && raw != redactedURL {
			s = strings.ReplaceAll(s, raw, redactedURL)
		}
	}
	return r.text(s)
}

// header returns a redacted copy of h: credential headers keep their
// name with the value REDACTED, other values pass through text.
func (r *redactor) header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		nv := make([]string, len(vs))
		for i, v := range vs {
			if sensitiveHeader(k) {
				nv[i] = redacted
			} else {
				nv[i] = r.text(v)
			}
		}
		out[k] = nv
	}
	return out
}

// sensitiveHeader reports whether a header carries credentials.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-token":
		return true
	}
	return sensitiveName(n)
}

// sensitiveName reports whether a lower-case header or query parameter
// name says its value is a credential.
func sensitiveName(n string) bool {
	for _, w := range [...]string{"token", "secret", "password", "passwd", "api-key", "apikey", "api_key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// suspectQuery reports whether rawQuery has a credential parameter;
// false means redactQuery would return it unchanged. It allocates only
// for an escaped parameter name.
func suspectQuery(rawQuery string) bool {
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		name, _, _ := strings.Cut(kv, "=")
		if strings.IndexByte(name, '%') >= 0 || strings.IndexByte(name, '+') >= 0 {
			if u, err := url.QueryUnescape(name); err == nil {
				name = u
			}
		}
		if sensitiveParam(name) {
			return true
		}
	}
	return false
}

// sensitiveParam reports whether a query parameter name says its value is
// a credential.
func sensitiveParam(name string) bool {
	for _, w := range [...]string{"token", "secret", "password", "passwd", "api-key", "apikey", "api_key"} {
		if containsFold(name, w) {
			return true
		}
	}
	return strings.EqualFold(name, "key") || strings.EqualFold(name, "sig") || strings.EqualFold(name, "signature") ||
		containsFold(name, "-signature")
}

// redactQuery replaces the values of credential parameters, keeping the
// parameters' order.
func redactQuery(rawQuery string) string {
	if !suspectQuery(rawQuery) {
		return rawQuery
	}
	parts := strings.Split(rawQuery, "&")
	for i, kv := range parts {
		k, _, _ := strings.Cut(kv, "=")
		name := k
		if u, err := url.QueryUnescape(k); err == nil {
			name = u
		}
		if sensitiveParam(name) {
			parts[i] = k + "=" + redacted
		}
	}
	return strings.Join(parts, "&")
}

// containsFold reports whether s contains the lower-case ASCII word w,
// ignoring ASCII case, without allocating.
func containsFold(s, w string) bool {
	n := len(w)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
