package wiretrace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigilhq/vigil/diag/redact"
)

// body renders the captured head of a body, total bytes long, for the
// ring: Kubernetes protobuf decoded to JSON when it was captured whole,
// other binary bodies (protobuf cut short, CBOR, compressed) as a
// placeholder, JSON with credential fields redacted, other text through
// r.text, and a "…[truncated N bytes]" marker when the capture stopped
// at the limit.
func (r *redactor) body(buf []byte, total int64, contentType string) string {
	if total == 0 && len(buf) == 0 {
		return ""
	}
	cut := total - int64(len(buf))
	if strings.HasPrefix(contentType, "application/vnd.kubernetes.protobuf") {
		if cut > 0 {
			return fmt.Sprintf("[protobuf body: %d bytes, more than BodyLimit, so not decoded]", total)
		}
		if obj, _, err := r.proto.Decode(buf, nil, nil); err == nil {
			if j, err := json.Marshal(obj); err == nil {
				return r.json(j)
			}
		}
	}
	b := buf
	if cut > 0 {
		b = trimPartialRune(b)
	}
	var s string
	switch {
	case !isText(b) || strings.Contains(contentType, "protobuf") || strings.Contains(contentType, "cbor"):
		if contentType == "" {
			contentType = "no Content-Type"
		}
		return fmt.Sprintf("[binary body: %d bytes, %s]", total, contentType)
	case looksJSON(b):
		s = r.json(b)
	default:
		s = r.text(string(b))
	}
	if cut > 0 {
		s += "…[truncated " + strconv.FormatInt(cut, 10) + " bytes]"
	}
	return s
}

// trimPartialRune drops an incomplete UTF-8 sequence that the capture
// limit cut in two.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// isText reports whether b is UTF-8 without control bytes other than
// whitespace; Kubernetes protobuf starts with "k8s\x00" and fails this.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return utf8.Valid(b)
}

// looksJSONString is looksJSON for a string, without copying it.
func looksJSONString(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) > 1 && (s[0] == '{' || s[0] == '[')
}

func looksJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// json redacts a JSON body (one value or a stream of them) and returns it
// compact, keys in their original order. JSON that does not parse, most
// often because the capture limit cut it, goes through jsonText.
func (r *redactor) json(b []byte) string {
	values, err := parseJSON(b)
	if err != nil {
		return r.jsonText(string(b))
	}
	var out strings.Builder
	out.Grow(len(b))
	for i, n := range values {
		r.node(n)
		if i > 0 {
			out.WriteByte('\n')
		}
		n.write(&out)
	}
	return out.String()
}

// jsonText redacts JSON that does not parse: a Secret anywhere withholds
// the whole body (its data may precede the cut), credential keys lose
// their values, and the rest goes through text.
func (r *redactor) jsonText(s string) string {
	if r.kind.MatchString(s) {
		return secretWithheld
	}
	s = redactEnvText(s)
	s = r.jsonKV.ReplaceAllStringFunc(s, func(m string) string {
		sub := r.jsonKV.FindStringSubmatch(m)
		if sensitiveKey(sub[1], strings.HasPrefix(sub[3], `"`)) {
			return `"` + sub[1] + `"` + sub[2] + `"` + redacted + `"`
		}
		return m
	})
	return r.text(s)
}

// node redacts a parsed JSON value in place: data and stringData of a
// Secret (a kind Secret object, or an item of a SecretList, which carries
// no kind of its own), the value of every environment variable (by
// position: "value" in an element of an "env" array, as in a pod's
// containers, initContainers and ephemeralContainers), the value of any
// credential key, and bearer tokens and the like in every string. A string
// that is itself a JSON document (the last-applied-configuration
// annotation holds the whole object) is redacted the same way.
func (r *redactor) node(n *jnode) { r.nodeAt(n, 0) }

// maxEmbeddedJSON bounds how deep JSON kept in a string is parsed in turn.
const maxEmbeddedJSON = 2

func (r *redactor) nodeAt(n *jnode, embedded int) {
	switch n.kind {
	case jString:
		if embedded < maxEmbeddedJSON && looksJSONString(n.val) {
			if values, err := parseJSON([]byte(n.val)); err == nil && len(values) == 1 {
				// Rewritten only if redaction changed it: writing
				// compacts, and the document's own layout should stay.
				var before, after strings.Builder
				values[0].write(&before)
				r.nodeAt(values[0], embedded+1)
				values[0].write(&after)
				if before.String() != after.String() {
					n.val, n.changed = after.String(), true
				}
				return
			}
		}
		if v := r.text(n.val); v != n.val {
			n.val, n.changed = v, true
		}
	case jArray:
		for _, v := range n.vals {
			r.nodeAt(v, embedded)
		}
	case jObject:
		switch n.str("kind") {
		case "Secret":
			redactSecretData(n)
		case "SecretList":
			if items := n.get("items"); items != nil && items.kind == jArray {
				for _, it := range items.vals {
					redactSecretData(it)
				}
			}
		}
		for i, k := range n.keys {
			if sensitiveKey(k, n.vals[i].kind == jString) {
				n.vals[i] = redactedNode()
				continue
			}
			if isEnvKey(k) {
				redactEnvValues(n.vals[i])
			}
			r.nodeAt(n.vals[i], embedded)
		}
	}
}

// isEnvKey reports whether an object key holds environment variables:
// "env" in a Kubernetes container, "Env" in a task spec.
func isEnvKey(k string) bool { return strings.EqualFold(k, "env") }

// redactEnvValues replaces the value of every variable in an env array,
// keeping the names (and valueFrom, which only names a Secret or
// ConfigMap key): any variable may carry a password or a token, whatever
// its name (issue 16).
func redactEnvValues(env *jnode) {
	if env.kind != jArray {
		return
	}
	for _, v := range env.vals {
		if v.kind != jObject {
			continue
		}
		for j, k := range v.keys {
			if strings.EqualFold(k, "value") {
				v.vals[j] = redactedNode()
			}
		}
	}
}

// redactSecretData replaces the values under a Secret's data and
// stringData, keeping their keys: which keys a Secret has is not secret
// and helps debugging a missing one.
func redactSecretData(n *jnode) {
	if n.kind != jObject {
		return
	}
	for i, k := range n.keys {
		if k != "data" && k != "stringData" {
			continue
		}
		v := n.vals[i]
		if v.kind != jObject {
			n.vals[i] = redactedNode()
			continue
		}
		for j := range v.vals {
			v.vals[j] = redactedNode()
		}
	}
}

// sensitiveKey reports whether a JSON key holds a credential. The keys of
// kubeconfigs, token requests and common API conventions are redacted
// whatever their value; names that merely end like one ("adminPassword",
// "bootstrapToken") only when the value is a string, so that booleans
// such as automountServiceAccountToken stay readable.
func sensitiveKey(key string, isString bool) bool {
	for _, k := range [...]string{"token", "password", "passwd", "secret", "client-key-data", "client-certificate-data",
		"access_token", "refresh_token", "id_token", "client_secret", "api_key", "api-key", "apikey",
		"private_key", "privatekey"} {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	if !isString {
		return false
	}
	for _, s := range [...]string{"password", "passwd", "token", "secret", "apikey", "api_key", "-key-data", "privatekey", "private_key"} {
		if len(key) >= len(s) && strings.EqualFold(key[len(key)-len(s):], s) {
			return true
		}
	}
	return false
}

// redactEnvText replaces the value of every environment variable in JSON
// that does not parse (cut short by BodyLimit): a tolerant scan that
// tracks the keys of the open objects and arrays, and redacts a string
// under "value" in an object that is an element of an "env" array, the
// one the cut left unterminated included.
func redactEnvText(s string) string {
	if !redact.ContainsFold(s, `"env"`) {
		return s
	}
	type frame struct {
		object bool
		key    string // the key this container is the value of
		last   string // an object's latest key
		inKey  bool   // an object expects a key next
	}
	var (
		stack []frame
		out   strings.Builder
		from  int // s[from:] is not yet copied to out
	)
	underEnvValue := func() bool {
		n := len(stack)
		return n >= 2 && stack[n-1].object && !stack[n-1].inKey && strings.EqualFold(stack[n-1].last, "value") &&
			!stack[n-2].object && isEnvKey(stack[n-2].key)
	}
	pendingKey := "" // the key whose value comes next, for a container that opens
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '{', '[':
			stack = append(stack, frame{object: c == '{', key: pendingKey, inKey: c == '{'})
			pendingKey = ""
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].inKey = true
			}
		case ':':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].inKey = false
				pendingKey = stack[n-1].last
			}
		case '"':
			end := i + 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			n := len(stack)
			switch {
			case n > 0 && stack[n-1].object && stack[n-1].inKey:
				if end <= len(s) {
					stack[n-1].last = unquote(s[i+1 : min(end, len(s))])
				}
			case underEnvValue():
				out.WriteString(s[from:i])
				out.WriteString(`"` + redacted + `"`)
				from = min(end+1, len(s))
			}
			pendingKey = ""
			i = end
		default:
			if c > ' ' {
				pendingKey = ""
			}
		}
	}
	if from == 0 {
		return s
	}
	out.WriteString(s[min(from, len(s)):])
	return out.String()
}

// unquote decodes the text between a JSON string's quotes, or returns it
// as is when it does not decode.
func unquote(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw
	}
	var v string
	if err := json.Unmarshal([]byte(`"`+raw+`"`), &v); err != nil {
		return raw
	}
	return v
}
