// Package redact removes credentials from what Vigil logs and shows: a
// database URL or keyword DSN, a Pyroscope address, a command line, an
// error message. It is the one place that knows what a credential looks
// like in text; the wire tracer, the debug API (/debug/v1/info and
// pprof's cmdline), the start-up log, the bundle's config.yaml and the
// Pyroscope uploader's log all go through it (issue 16).
//
//	log.Info("starting", zap.String("db", redact.URL(cfg.DB)))
//	info.Args = redact.Args(os.Args)
//	msg = redact.Text(err.Error())
//
// What it replaces with Marker, keeping the name so a reader sees which
// setting was there:
//
//   - the password of a URL's userinfo ("postgres://vigil:REDACTED@db");
//     userinfo without a password is a token ("http://REDACTED@host"),
//     except in a postgres:// URL, where it is the role and stays;
//   - the value of a query parameter or key=value pair whose name contains
//     token, secret, password, passwd, api-key, apikey or api_key, or is
//     key, pwd, sig or signature (or ends in -signature): "?sslpassword=",
//     "?access_token=", libpq's "password='a b'" and "--token=x" alike;
//   - a bearer token ("Bearer xxx", any case);
//   - in a command line, also the argument after a flag named like a
//     credential ("--password x"), unless the flag names a file or folder.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Marker replaces every redacted value.
const Marker = "REDACTED"

var (
	bearer = regexp.MustCompile(`(?i)(bearer\s+)(?:bearer\s+)*[A-Za-z0-9._~+/=-]+`)
	// keyValue: token=..., password='...' (libpq quotes values with
	// spaces; a quote cut short by a limit runs to the end), --api-key=...
	keyValue = regexp.MustCompile(`(?i)((?:token|secret|password|passwd|pwd|api[-_]?key|sig|signature)\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|[^&\s"'<>]+)`)
	// userinfo: scheme://user:password@ or scheme://token@. An @ inside
	// the userinfo (a password written unescaped) is taken in; a / is not,
	// so an address in a path or query stays.
	userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*)://([^\s/@"'<>]*(?:@[^\s/@"'<>]*)*)@`)
)

// Text redacts credentials anywhere in s: URL userinfo, credential
// key=value pairs (query parameters, keyword DSNs, flags, form bodies) and
// bearer tokens. Each pattern runs only when a cheap test finds what it
// needs, so the common string costs a few scans and no allocation.
func Text(s string) string {
	if ContainsFold(s, "bearer") {
		s = bearer.ReplaceAllString(s, "${1}"+Marker)
	}
	if strings.IndexByte(s, '=') >= 0 && (ContainsFold(s, "token") || ContainsFold(s, "secret") ||
		ContainsFold(s, "pass") || ContainsFold(s, "pwd") || ContainsFold(s, "key") || ContainsFold(s, "sig")) {
		s = keyValue.ReplaceAllString(s, "${1}"+Marker)
	}
	if strings.IndexByte(s, '@') >= 0 && strings.Contains(s, "://") {
		s = userinfo.ReplaceAllStringFunc(s, func(m string) string {
			sub := userinfo.FindStringSubmatch(m)
			return sub[1] + "://" + redactUserinfo(sub[1], sub[2]) + "@"
		})
	}
	return s
}

// redactUserinfo keeps a user name and drops its password; a lone name is
// taken for a token unless the scheme is PostgreSQL's.
func redactUserinfo(scheme, ui string) string {
	if user, _, ok := strings.Cut(ui, ":"); ok {
		return user + ":" + Marker
	}
	if isDatabase(scheme) {
		return ui
	}
	return Marker
}

func isDatabase(scheme string) bool {
	return strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql")
}

// URL redacts a setting that names a server: a URL (its userinfo and
// credential query parameters), or anything else, such as a libpq keyword
// DSN ("host=db password=x") or a file path, through Text.
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return Text(s)
	}
	return ParsedURL(u)
}

// ParsedURL returns u as a string without its password (or lone token)
// and without the values of credential query parameters; u is not
// modified. A fragment or an opaque URL, which have no structure to go by,
// goes through Text.
func ParsedURL(u *url.URL) string {
	var s string
	if u.User == nil && !suspectQuery(u.RawQuery) {
		s = u.String()
	} else {
		cp := *u
		if cp.User != nil {
			if _, ok := cp.User.Password(); ok {
				cp.User = url.UserPassword(cp.User.Username(), Marker)
			} else if !isDatabase(cp.Scheme) {
				cp.User = url.User(Marker)
			}
		}
		cp.RawQuery = Query(cp.RawQuery)
		s = cp.String()
	}
	if u.Fragment != "" || u.Opaque != "" {
		s = Text(s)
	}
	return s
}

// Args returns a copy of a command line with credentials redacted: each
// argument through Text, and the argument after a credential flag given
// without "=" ("--password x").
func Args(args []string) []string {
	out := make([]string, len(args))
	next := false
	for i, a := range args {
		switch {
		case next:
			out[i] = Marker
		default:
			out[i] = Text(a)
		}
		next = credentialFlag(a)
	}
	return out
}

// credentialFlag reports whether a is a flag without a value whose name
// says the next argument is a credential.
func credentialFlag(a string) bool {
	if !strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
		return false
	}
	name := strings.ToLower(strings.TrimLeft(a, "-"))
	for _, path := range [...]string{"file", "dir", "path"} {
		if strings.HasSuffix(name, path) {
			return false
		}
	}
	return SensitiveParam(name)
}

// SensitiveParam reports whether a query parameter, flag or header name
// says its value is a credential.
func SensitiveParam(name string) bool {
	for _, w := range [...]string{"token", "secret", "password", "passwd", "api-key", "apikey", "api_key"} {
		if ContainsFold(name, w) {
			return true
		}
	}
	return strings.EqualFold(name, "key") || strings.EqualFold(name, "pwd") || strings.EqualFold(name, "sig") ||
		strings.EqualFold(name, "signature") || ContainsFold(name, "-signature")
}

// suspectQuery reports whether rawQuery has a credential parameter;
// false means Query would return it unchanged. It allocates only for an
// escaped parameter name.
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
		if SensitiveParam(name) {
			return true
		}
	}
	return false
}

// Query replaces the values of credential parameters in a raw query,
// keeping the parameters' order and everything else as written.
func Query(rawQuery string) string {
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
		if SensitiveParam(name) {
			parts[i] = k + "=" + Marker
		}
	}
	return strings.Join(parts, "&")
}

// containsFold reports whether s contains the lower-case ASCII word w,
// ignoring ASCII case, without allocating.
func ContainsFold(s, w string) bool {
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
