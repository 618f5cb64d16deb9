package main

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// Config file errors are worded like DAG file errors: file:line:col, the
// key's full path, what is wrong in the user's words (never a Go type
// such as "!!str into int" or "time.Duration"), what is allowed, and
// "did you mean" for a misspelt key at any level. Every problem is
// reported, not only the first.
//
// checkShape walks the YAML tree against the Go type it decodes into
// before it is decoded, so that the decoder never reports anything; the
// value rules (validate) run on the decoded config, after the flags, and
// name the file position or the flag the value came from.

// configError lists a config file's or the flags' problems, one a line;
// it is a usage error (exit status 2).
type configError struct{ problems []string }

func (e *configError) Error() string {
	return strings.Join(e.problems, "\n") + "\n(the README's Configuration section lists the keys and their rules)"
}

// shapeChecker walks a YAML tree against a Go type.
type shapeChecker struct {
	file     string
	problems []string
	// pos maps a key's path (kube.qps, api.tokens[0].role) to the
	// file:line:col of its value.
	pos map[string]string
}

func (c *shapeChecker) at(n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", c.file, n.Line, n.Column)
}

func (c *shapeChecker) errorf(n *yaml.Node, format string, args ...any) {
	c.problems = append(c.problems, c.at(n)+": "+fmt.Sprintf(format, args...))
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// walk checks n, the value at path, against t.
func (c *shapeChecker) walk(n *yaml.Node, t reflect.Type, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) > 0 {
			c.walk(n.Content[0], t, path)
		}
		return
	}
	if path != "" {
		c.pos[path] = c.at(n)
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // the default stays
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		// The type words its own errors (an age such as 30d); they may
		// start with "line N: ", which the position replaces.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			msg := err.Error()
			if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
				msg = rest
			}
			c.errorf(n, "%s: %s", path, strings.TrimPrefix(msg, path+": "))
		}
		return
	}
	switch {
	case t == durationType:
		c.duration(n, path)
		return
	case t.Kind() == reflect.Pointer:
		c.walk(n, t.Elem(), path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.errorf(n, "%s: want a mapping of keys (%s), got %s", orTop(path), strings.Join(keysOf(t), ", "), describe(n))
			return
		}
		c.mapping(n, t, path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.errorf(n, "%s: want a mapping of names to values, got %s", path, describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			c.walk(n.Content[i+1], t.Elem(), path+"."+n.Content[i].Value)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.errorf(n, "%s: want a list, got %s", path, describe(n))
			return
		}
		for i, e := range n.Content {
			c.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.errorf(n, "%s: want a text value, got %s", path, describe(n))
		}
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			c.errorf(n, "%s: want true or false, got %s", path, describe(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(n.Value, 10, 64); n.Kind != yaml.ScalarNode || err != nil {
			c.errorf(n, "%s: want a whole number, got %s", path, describe(n))
		}
	case reflect.Float32, reflect.Float64:
		if _, err := strconv.ParseFloat(n.Value, 64); n.Kind != yaml.ScalarNode || err != nil {
			c.errorf(n, "%s: want a number, got %s", path, describe(n))
		}
	}
}

// duration checks a duration: a number with a unit. A bare number is
// refused although YAML would read it as nanoseconds: "kill_grace: 10"
// means ten seconds to whoever wrote it, and 10ns to the decoder.
func (c *shapeChecker) duration(n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode {
		c.errorf(n, "%s: want a duration such as 30s, 5m or 1h30m, got %s", path, describe(n))
		return
	}
	if n.Value == "0" {
		// "0" turns a window off (flight_recorder: 0); the decoder
		// takes only a duration with a unit.
		n.Value, n.Tag, n.Style = "0s", "!!str", 0
		return
	}
	if _, err := strconv.ParseFloat(n.Value, 64); err == nil {
		c.errorf(n, "%s: %s has no unit: write %ss for seconds, or ms, m, h", path, n.Value, n.Value)
		return
	}
	if _, err := time.ParseDuration(n.Value); err != nil {
		c.errorf(n, "%s: %q is not a duration: want one such as 30s, 5m or 1h30m (units ns, us, ms, s, m, h)", path, n.Value)
	}
}

// mapping checks a mapping's keys against t's fields, and their values.
func (c *shapeChecker) mapping(n *yaml.Node, t reflect.Type, path string) {
	fields := fieldsOf(t)
	keys := keysOf(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := k.Value
		if path != "" {
			sub = path + "." + k.Value
		}
		f, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", sub)
			if path != "" {
				msg = fmt.Sprintf("unknown key %q in %s", k.Value, path)
			}
			if near := dag.Closest(k.Value, keys); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else if elsewhere := c.elsewhere(k.Value); elsewhere != "" {
				// A key of another section, written at the wrong level.
				msg += fmt.Sprintf("; did you mean %q?", elsewhere)
			} else {
				msg += fmt.Sprintf(" (the keys here are %s)", strings.Join(keys, ", "))
			}
			c.errorf(k, "%s", msg)
			continue
		}
		if seen[k.Value] {
			c.errorf(k, "%s is given twice", sub)
		}
		seen[k.Value] = true
		c.walk(v, f.Type, sub)
	}
}

// elsewhere returns the full path of the config key named key in
// another section (flight_recorder: debug.flight_recorder), or "".
func (c *shapeChecker) elsewhere(key string) string {
	var found []string
	var visit func(t reflect.Type, prefix string)
	visit = func(t reflect.Type, prefix string) {
		for name, f := range fieldsOf(t) {
			if name == key && prefix != "" {
				found = append(found, prefix+name)
			}
			if ft := f.Type; ft.Kind() == reflect.Struct && ft != durationType {
				visit(ft, prefix+name+".")
			}
		}
	}
	visit(reflect.TypeFor[config](), "")
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// fieldsOf maps t's YAML keys to its fields.
func fieldsOf(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		out[name] = f
	}
	return out
}

func keysOf(t reflect.Type) []string {
	var keys []string
	for k := range fieldsOf(t) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describe says what a node is, in YAML's words.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func orTop(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// checkConfigFile checks data, the config file at path, against config's
// shape; it returns the tree to decode (nil for an empty file) and the
// positions of its values.
func checkConfigFile(path string, data []byte) (*yaml.Node, map[string]string, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// A syntax error: yaml's message has the line ("yaml: line 3:
		// mapping values are not allowed in this context").
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			msg = rest // "3: mapping values are not allowed", after "file:"
		} else {
			msg = " " + msg
		}
		return nil, nil, &usageError{fmt.Errorf("%s:%s", path, msg)}
	}
	c := &shapeChecker{file: path, pos: map[string]string{}}
	if root.Kind == 0 {
		return nil, c.pos, nil // an empty file: the defaults
	}
	c.walk(&root, reflect.TypeFor[config](), "")
	if len(c.problems) > 0 {
		return nil, nil, &usageError{&configError{problems: c.problems}}
	}
	return &root, c.pos, nil
}
