package wiretrace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jnode is a parsed JSON value that keeps its object keys in order and
// its strings as written, so a redacted body reads like the original.
// encoding/json's Decoder.Token would do, at ten times the allocations.
type jnode struct {
	kind    byte
	raw     string   // a string as written between its quotes; a number or literal as written
	val     string   // a string's decoded value
	changed bool     // val was redacted: write val, not raw
	keys    []string // an object's decoded keys, parallel to vals
	vals    []*jnode // an object's values or an array's elements
}

const (
	jString byte = iota + 1
	jRaw
	jObject
	jArray
)

func redactedNode() *jnode { return &jnode{kind: jString, val: redacted, changed: true} }

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
		return v.val
	}
	return ""
}

// maxJSONDepth bounds nesting, so a hostile body cannot exhaust the stack.
const maxJSONDepth = 256

var errJSONSyntax = errors.New("json syntax")

// parseJSON parses b as a sequence of JSON values (one, or a stream of
// watch events). Any syntax error, a body cut short included, fails the
// whole parse.
func parseJSON(b []byte) ([]*jnode, error) {
	// Strings are cut from one copy of the body, and nodes come from
	// slabs, so a body costs a few allocations rather than a few per value.
	p := jparser{b: b, src: string(b)}
	var out []*jnode
	for {
		p.space()
		if p.i == len(p.b) {
			return out, nil
		}
		n, err := p.value(0)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
}

type jparser struct {
	b    []byte
	src  string // b as a string, for substrings
	i    int
	slab []jnode
	// keys and vals stack the children of the containers being parsed;
	// each container takes an exact-size copy of its own when it ends.
	keys []string
	vals []*jnode
}

// node returns a zeroed node from the current slab.
func (p *jparser) node(kind byte) *jnode {
	if len(p.slab) == 0 {
		p.slab = make([]jnode, 32)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	n.kind = kind
	return n
}

func (p *jparser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips space and returns the next byte without consuming it.
func (p *jparser) next() (byte, error) {
	p.space()
	if p.i == len(p.b) {
		return 0, io.ErrUnexpectedEOF
	}
	return p.b[p.i], nil
}

func (p *jparser) fail(what string) error {
	return fmt.Errorf("%w at byte %d: %s", errJSONSyntax, p.i, what)
}

func (p *jparser) value(depth int) (*jnode, error) {
	if depth > maxJSONDepth {
		return nil, p.fail("nested too deep")
	}
	c, err := p.next()
	if err != nil {
		return nil, err
	}
	switch {
	case c == '{' || c == '[':
		return p.container(depth)
	case c == '"':
		raw, val, err := p.str()
		if err != nil {
			return nil, err
		}
		n := p.node(jString)
		n.raw, n.val = raw, val
		return n, nil
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
			p.i += len(lit)
			n := p.node(jRaw)
			n.raw = lit
			return n, nil
		}
		if rest := p.b[p.i:]; len(rest) < len(lit) && strings.HasPrefix(lit, string(rest)) {
			return nil, io.ErrUnexpectedEOF
		}
	}
	return nil, p.fail(fmt.Sprintf("unexpected %q", c))
}

// number parses -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *jparser) number() (*jnode, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	at := func(set string) bool { return p.i < len(p.b) && strings.IndexByte(set, p.b[p.i]) >= 0 }
	if at("-") {
		p.i++
	}
	switch {
	case at("0"):
		p.i++
	case digits() == 0:
		return nil, p.numberError()
	}
	if at(".") {
		p.i++
		if digits() == 0 {
			return nil, p.numberError()
		}
	}
	if at("eE") {
		p.i++
		if at("+-") {
			p.i++
		}
		if digits() == 0 {
			return nil, p.numberError()
		}
	}
	n := p.node(jRaw)
	n.raw = p.src[start:p.i]
	return n, nil
}

// numberError is io.ErrUnexpectedEOF for a number the body's end cut
// short, a syntax error otherwise.
func (p *jparser) numberError() error {
	if p.i == len(p.b) {
		return io.ErrUnexpectedEOF
	}
	return p.fail("malformed number")
}

// container parses an object or an array.
func (p *jparser) container(depth int) (*jnode, error) {
	n := p.node(jObject)
	end := byte('}')
	if p.b[p.i] == '[' {
		n.kind, end = jArray, ']'
	}
	p.i++
	if c, err := p.next(); err != nil {
		return nil, err
	} else if c == end {
		p.i++
		return n, nil
	}
	mark, kmark := len(p.vals), len(p.keys)
	for {
		if n.kind == jObject {
			if c, err := p.next(); err != nil {
				return nil, err
			} else if c != '"' {
				return nil, p.fail("object key is not a string")
			}
			_, key, err := p.str()
			if err != nil {
				return nil, err
			}
			if c, err := p.next(); err != nil {
				return nil, err
			} else if c != ':' {
				return nil, p.fail("missing colon")
			}
			p.i++
			p.keys = append(p.keys, key)
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.vals = append(p.vals, v)
		c, err := p.next()
		if err != nil {
			return nil, err
		}
		p.i++
		switch c {
		case ',':
		case end:
			n.vals = append([]*jnode(nil), p.vals[mark:]...)
			p.vals = p.vals[:mark]
			if n.kind == jObject {
				n.keys = append([]string(nil), p.keys[kmark:]...)
				p.keys = p.keys[:kmark]
			}
			return n, nil
		default:
			return nil, p.fail(fmt.Sprintf("unexpected %q", c))
		}
	}
}

// str parses the string at p.i and returns it as written and decoded.
func (p *jparser) str() (raw, val string, err error) {
	start := p.i + 1
	escaped := false
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '\\':
			escaped = true
			j++
		case c == '"':
			raw = p.src[start:j]
			val = raw
			if escaped {
				var dec string // declared here: its address escapes
				if err := json.Unmarshal(p.b[start-1:j+1], &dec); err != nil {
					return "", "", fmt.Errorf("%w: %w", errJSONSyntax, err)
				}
				val = dec
			}
			p.i = j + 1
			return raw, val, nil
		case c < 0x20:
			p.i = j
			return "", "", p.fail("control character in string")
		}
	}
	return "", "", io.ErrUnexpectedEOF
}

// write appends n to b as compact JSON.
func (n *jnode) write(b *strings.Builder) {
	switch n.kind {
	case jString:
		if n.changed {
			writeString(b, n.val)
			return
		}
		b.WriteByte('"')
		b.WriteString(n.raw)
		b.WriteByte('"')
	case jRaw:
		b.WriteString(n.raw)
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
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= 0x20 && s[i] != '"' && s[i] != '\\'
	}
	if plain {
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
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
