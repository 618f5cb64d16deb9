package wiretrace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// body renders the captured head of a body, total bytes long, for the
// ring: binary bodies (protobuf, CBOR, compressed) as a placeholder, JSON
// with credential fields redacted, other text through r.text, and a
// "…[truncated N bytes]" marker when the capture stopped at the limit.
func (r *redactor) body(buf []byte, total int64, contentType string) string {
	if total == 0 && len(buf) == 0 {
		return ""
	}
	cut := total - int64(len(buf))
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

func looksJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// json redacts a JSON body (one value or a stream of them) and returns it
// compact, keys in their original order. JSON that does not parse, most
// often because the capture limit cut it, goes through jsonText.
func (r *redactor) json(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out strings.Builder
	for {
		n, err := readNode(dec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r.jsonText(string(b))
		}
		r.node(n)
		if out.Len() > 0 {
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
// no kind of its own), the value of any credential key, and bearer
// tokens and the like in every string.
func (r *redactor) node(n *jnode) {
	switch n.kind {
	case jString:
		n.s = r.text(n.s)
	case jArray:
		for _, v := range n.vals {
			r.node(v)
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
				n.vals[i] = &jnode{kind: jString, s: redacted}
				continue
			}
			r.node(n.vals[i])
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
			n.vals[i] = &jnode{kind: jString, s: redacted}
			continue
		}
		for j := range v.vals {
			v.vals[j] = &jnode{kind: jString, s: redacted}
		}
	}
}

// sensitiveKey reports whether a JSON key holds a credential. The keys of
// kubeconfigs, token requests and common API conventions are redacted
// whatever their value; names that merely end like one ("adminPassword",
// "bootstrapToken") only when the value is a string, so that booleans
// such as automountServiceAccountToken stay readable.
func sensitiveKey(key string, isString bool) bool {
	k := strings.ToLower(key)
	switch k {
	case "token", "password", "passwd", "secret", "client-key-data", "client-certificate-data",
		"access_token", "refresh_token", "id_token", "client_secret", "api_key", "api-key", "apikey",
		"private_key", "privatekey":
		return true
	}
	if !isString {
		return false
	}
	for _, s := range [...]string{"password", "passwd", "token", "secret", "apikey", "api_key", "-key-data", "privatekey", "private_key"} {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// jnode is a parsed JSON value that keeps its object keys in order, so
// a redacted body reads like the original.
type jnode struct {
	kind byte
	s    string   // a string's value or a number, true, false or null as written
	keys []string // an object's keys, parallel to vals
	vals []*jnode // an object's values or an array's elements
}

const (
	jString byte = iota + 1
	jRaw
	jObject
	jArray
)

// get returns the value of key in an object, or nil.
func (n *jnode) get(key string) *jnode {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// str returns the string value of key in an object, or "".
func (n *jnode) str(key string) string {
	if v := n.get(key); v != nil && v.kind == jString {
		return v.s
	}
	return ""
}

// readNode reads the next JSON value from dec; io.EOF when there is none.
func readNode(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return nodeFrom(dec, tok)
}

func nodeFrom(dec *json.Decoder, tok json.Token) (*jnode, error) {
	switch v := tok.(type) {
	case json.Delim:
		n := &jnode{kind: jObject}
		if v == '[' {
			n.kind = jArray
		} else if v != '{' {
			return nil, fmt.Errorf("unexpected %q", rune(v))
		}
		for dec.More() {
			if n.kind == jObject {
				kt, err := dec.Token()
				if err != nil {
					return nil, noEOF(err)
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				n.keys = append(n.keys, key)
			}
			child, err := readNode(dec)
			if err != nil {
				return nil, noEOF(err)
			}
			n.vals = append(n.vals, child)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, noEOF(err)
		}
		return n, nil
	case string:
		return &jnode{kind: jString, s: v}, nil
	case json.Number:
		return &jnode{kind: jRaw, s: v.String()}, nil
	case bool:
		return &jnode{kind: jRaw, s: strconv.FormatBool(v)}, nil
	case nil:
		return &jnode{kind: jRaw, s: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %T", tok)
}

// noEOF turns an EOF inside a value into ErrUnexpectedEOF, so only a
// clean end between values reads as the end of the body.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// write appends n to b as compact JSON.
func (n *jnode) write(b *strings.Builder) {
	switch n.kind {
	case jString:
		writeString(b, n.s)
	case jRaw:
		b.WriteString(n.s)
	case jObject:
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			n.vals[i].write(b)
		}
		b.WriteByte('}')
	case jArray:
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			v.write(b)
		}
		b.WriteByte(']')
	}
}

// writeString writes s as a JSON string, escaping only what JSON
// requires.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			fmt.Fprintf(b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
}
