package wiretrace

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/vigilhq/vigil/diag/redact"
)

// What replaces a redacted value.
const (
	redacted = redact.Marker
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
	jsonKV *regexp.Regexp // "key": value in JSON that does not parse (truncated)
	kind   *regexp.Regexp // "kind": "Secret" in JSON that does not parse
	// proto decodes the Kubernetes protobuf that client-go's typed
	// clients send and accept, so Bodies mode can show it as JSON.
	proto runtime.Decoder
}

func newRedactor() *redactor {
	return &redactor{
		jsonKV: regexp.MustCompile(`"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|-?[0-9][0-9.eE+-]*|true|false|null)`),
		kind:   regexp.MustCompile(`"kind"\s*:\s*"Secret(?:List)?"`),
		proto:  scheme.Codecs.UniversalDeserializer(),
	}
}

// text redacts bearer tokens, credential key=value pairs and URL
// userinfo anywhere in s (see package redact).
func (r *redactor) text(s string) string { return redact.Text(s) }

// url returns u as a string without its password or token and without
// the values of credential query parameters.
func (r *redactor) url(u *url.URL) string { return redact.ParsedURL(u) }

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
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-token":
		return true
	}
	return redact.SensitiveParam(name)
}
