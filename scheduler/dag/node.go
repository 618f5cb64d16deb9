package dag

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// reader walks the yaml.Node tree of one file and collects every problem
// it finds, each with the position of the key or value at fault.
type reader struct {
	file    string
	presets Presets
	// receivers are the receiver names on_* keys may use, checked only
	// with checkReceivers (see ParseChecked).
	receivers      []string
	checkReceivers bool
	errs           ErrorList
	// searches counts the suggestions looked for, compared the
	// candidates they were compared with (see suggest.go).
	searches, compared int
	// emptyMsg replaces the message for a file that holds nothing, for
	// files that are not DAG files (a conf).
	emptyMsg string
}

func (r *reader) errorf(n *yaml.Node, task, format string, args ...any) {
	e := &Error{File: r.file, Task: task, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	r.errs = append(r.errs, e)
}

// field is one key of a mapping and its value, aliases resolved.
type field struct {
	name     string
	key, val *yaml.Node
}

// schema says which keys a mapping may hold.
type schema struct {
	what string   // names the mapping in messages: "a task", "defaults"
	keys []string // in canonical order; nil allows any key (env)
	// ext allows keys starting with "x-", ignored, so a file can hold
	// YAML anchors for reuse as docker-compose files do.
	ext bool
	// keepNull keeps keys whose value is null; otherwise a null value
	// reads as an absent key, so "retries:" means "not set".
	keepNull bool
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// mapping reads mapping n against s. Merge keys (<<: *anchor) are
// followed; keys written in n win over merged ones, as YAML specifies.
func (r *reader) mapping(n *yaml.Node, task string, s schema) (map[string]field, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		r.errorf(n, task, "%s must be a mapping of keys to values, got %s", s.what, describe(n))
		return nil, false
	}
	fields := map[string]field{}
	r.collect(n, task, s, fields, map[*yaml.Node]bool{})
	if !s.keepNull {
		for name, f := range fields {
			if isNull(f.val) {
				delete(fields, name)
			}
		}
	}
	return fields, true
}

func (r *reader) collect(n *yaml.Node, task string, s schema, into map[string]field, seen map[*yaml.Node]bool) {
	// Each mapping is read once: merged keys never beat earlier ones, and a
	// file of merges of merges must not cost exponential time.
	if seen[n] {
		return
	}
	seen[n] = true
	var merges []*yaml.Node
	here := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" || k.ShortTag() == "!!binary" {
			r.errorf(k, task, "a key in %s must be a plain name, got %s", s.what, describe(k))
			continue
		}
		name := k.Value
		if first, dup := here[name]; dup {
			r.errorf(k, task, "duplicate key %q in %s (first at line %d); remove one of them", name, s.what, first.Line)
			continue
		}
		here[name] = k
		if s.keys != nil && !slices.Contains(s.keys, name) {
			if !(s.ext && strings.HasPrefix(name, "x-")) {
				r.unknownKey(k, task, s)
			}
			continue
		}
		// A null value is kept here so that it still hides a merged key;
		// mapping drops it afterwards.
		if _, set := into[name]; !set {
			into[name] = field{name: name, key: k, val: v}
		}
	}
	for _, m := range merges {
		switch m.Kind {
		case yaml.MappingNode:
			r.collect(m, task, s, into, seen)
		case yaml.SequenceNode:
			for _, e := range m.Content {
				if e = deref(e); e.Kind == yaml.MappingNode {
					r.collect(e, task, s, into, seen)
				} else {
					r.errorf(e, task, "<< merges mappings, got %s; merge an anchored mapping like <<: *common", describe(e))
				}
			}
		default:
			r.errorf(m, task, "<< merges mappings, got %s; merge an anchored mapping like <<: *common", describe(m))
		}
	}
}

func (r *reader) unknownKey(k *yaml.Node, task string, s schema) {
	if near := r.suggest(k.Value, func() *names { return newNames(s.keys) }); near != "" {
		r.errorf(k, task, "unknown field %q in %s; did you mean %q?", k.Value, s.what, near)
		return
	}
	r.errorf(k, task, "unknown field %q in %s; known fields are %s", k.Value, s.what, strings.Join(s.keys, ", "))
}

// textTags are the scalar tags read as text. A value like 8080 or true is
// taken as written, so env: {PORT: 8080} means the string "8080".
var textTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!timestamp": true}

// text returns n as a string, or reports why it is not one.
func (r *reader) text(n *yaml.Node, task, name string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || !textTags[n.ShortTag()] {
		r.errorf(n, task, "%s must be a string, got %s", name, describe(n))
		return "", false
	}
	if !utf8.ValidString(n.Value) {
		r.errorf(n, task, "%s is not valid UTF-8; save the file as UTF-8", name)
		return "", false
	}
	return n.Value, true
}

func (r *reader) str(f field, task string) (string, bool) { return r.text(f.val, task, f.name) }

func (r *reader) integer(f field, task string, least int) (int, bool) {
	n := f.val
	var v int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		r.errorf(n, task, "%s must be a whole number, got %s", f.name, describe(n))
		return 0, false
	}
	if v < least {
		r.errorf(n, task, "%s must be at least %d, got %d", f.name, least, v)
		return 0, false
	}
	return v, true
}

func (r *reader) boolean(f field, task string) (bool, bool) {
	n := f.val
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		r.errorf(n, task, "%s must be true or false, got %s", f.name, describe(n))
		return false, false
	}
	return v, true
}

func (r *reader) duration(f field, task string) (time.Duration, bool) {
	s, ok := r.str(f, task)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.errorf(f.val, task, "%s: bad duration %q; write it like 30s, 5m or 1h30m", f.name, s)
		return 0, false
	}
	if d < 0 {
		r.errorf(f.val, task, "%s must not be negative, got %s", f.name, s)
		return 0, false
	}
	return d, true
}

// date reads an RFC 3339 time or a plain date (midnight UTC).
func (r *reader) date(f field) (time.Time, bool) {
	n := f.val
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!str" || n.ShortTag() == "!!timestamp") {
		t, err := time.Parse(time.RFC3339, n.Value)
		if err != nil {
			t, err = time.Parse(time.DateOnly, n.Value)
		}
		if err == nil {
			// An offset can move a time past year 9999 or before year 1
			// in UTC, where it no longer has an RFC 3339 form.
			if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
				r.errorf(n, "", "%s %s is out of range; give a time between the years 1 and 9999 (UTC)", f.name, n.Value)
				return time.Time{}, false
			}
			return t, true
		}
	}
	r.errorf(n, "", "%s must be a time like 2026-01-01T00:00:00Z or a date like 2026-01-01, got %s", f.name, describe(n))
	return time.Time{}, false
}

// list reads a list of strings, returning the good ones with their nodes.
// An empty list reads as nil, so that "args: []" and no args at all are
// the same DAG.
func (r *reader) list(f field, task string) ([]string, []*yaml.Node, bool) {
	n := f.val
	if n.Kind != yaml.SequenceNode {
		example, ok := listExamples[f.name]
		if !ok {
			example = "[a, b]"
		}
		r.errorf(n, task, "%s must be a list, like %s: %s; got %s", f.name, f.name, example, describe(n))
		return nil, nil, false
	}
	var out []string
	var nodes []*yaml.Node
	ok := true
	for i, e := range n.Content {
		name := fmt.Sprintf("%s[%d]", f.name, i)
		s, good := r.text(e, task, name)
		if good && strings.ContainsRune(s, 0) {
			r.errorf(deref(e), task, "%s contains a NUL byte, which no program can receive; remove it", name)
			good = false
		}
		if !good {
			ok = false
			continue
		}
		out = append(out, s)
		nodes = append(nodes, deref(e))
	}
	return out, nodes, ok
}

var listExamples = map[string]string{
	"command":    `[sh, -c, "echo hi"]`,
	"args":       "[--verbose, input.csv]",
	"depends_on": "[extract, transform]",
}

// describe names what n is, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
	default:
		return "an unexpected YAML node"
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:37]) + "..."
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing (null)"
	case "!!str":
		return fmt.Sprintf("the string %q", v)
	case "!!int", "!!float":
		return "the number " + v
	case "!!bool":
		return v
	case "!!timestamp":
		return "the time " + v
	case "!!binary":
		return "binary data"
	}
	return fmt.Sprintf("a value tagged %s; remove the tag", n.ShortTag())
}

// triggerRule reads a task's trigger_rule; all_success, the default, reads
// as "".
func (r *reader) triggerRule(f field, task string) TriggerRule {
	s, ok := r.str(f, task)
	if !ok {
		return ""
	}
	rule := TriggerRule(s)
	switch {
	case rule == AllSuccess:
		return ""
	case rule != "" && rule.Valid():
		return rule
	}
	if near := r.suggest(s, func() *names { return newNames(triggerRuleNames()) }); near != "" {
		r.errorf(f.val, task, "unknown trigger_rule %q; did you mean %q?", s, near)
	} else {
		r.errorf(f.val, task, "unknown trigger_rule %q; use one of %s", s, strings.Join(triggerRuleNames(), ", "))
	}
	return ""
}
