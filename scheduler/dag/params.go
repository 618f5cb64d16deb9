package dag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Params and conf (issue 17). A DAG may declare params, each with a
// default:
//
//	params:
//	  region: eu-west-1             # short form: the default
//	  limit:
//	    default: 100
//	    description: rows per batch
//
// A run's conf (`vigil dags trigger --conf limit=10`) overlays the
// defaults; the result is the run's effective params, fixed when the run
// is created and given to each of its tasks as VIGIL_PARAM_<NAME> and, all
// of them as one JSON object, VIGIL_CONF. Values are strings, numbers or
// booleans (JSON scalars).

// ValueKind is the JSON type of a param's value.
type ValueKind string

// The kinds of value.
const (
	KindString ValueKind = "string"
	KindNumber ValueKind = "number"
	KindBool   ValueKind = "boolean"
)

// Value is a param's value: a string, a number or a boolean.
type Value struct {
	Kind ValueKind
	// Text is the string itself, a number in canonical JSON form ("100",
	// "1.5", "1e+21") or "true"/"false": what a task's VIGIL_PARAM_
	// variable holds.
	Text string
}

// String returns a string value.
func String(s string) Value { return Value{Kind: KindString, Text: s} }

// String is the value as a task's environment holds it.
func (v Value) String() string { return v.Text }

// MarshalJSON writes v as a JSON string, number or boolean.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Kind {
	case KindString:
		return json.Marshal(v.Text)
	case KindNumber, KindBool:
		return []byte(v.Text), nil
	}
	return nil, fmt.Errorf("param value %q has no kind", v.Text)
}

// UnmarshalJSON reads a JSON string, number or boolean.
func (v *Value) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return err
	}
	val, err := scalar(x)
	if err != nil {
		return err
	}
	*v = val
	return nil
}

// scalar turns a decoded JSON value (numbers as json.Number) into a Value.
func scalar(x any) (Value, error) {
	switch x := x.(type) {
	case string:
		return String(x), nil
	case bool:
		return Value{Kind: KindBool, Text: strconv.FormatBool(x)}, nil
	case json.Number:
		return number(x.String())
	case nil:
		return Value{}, errors.New("null is not a value; give a string, a number or true/false")
	}
	return Value{}, fmt.Errorf("%s is not a value; give a string, a number or true/false (lists and objects are not taken)", describeJSON(x))
}

func describeJSON(x any) string {
	switch x.(type) {
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", x)
}

// number returns the number written s in canonical form: an integer as
// it is, anything else as encoding/json writes a float64.
func number(s string) (Value, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Value{Kind: KindNumber, Text: strconv.FormatInt(i, 10)}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return Value{}, fmt.Errorf("%s is not a number a float64 holds", s)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return Value{}, err
	}
	return Value{Kind: KindNumber, Text: string(b)}, nil
}

// Values maps param names to values: a run's conf or its effective
// params. Its JSON form is an object, keys sorted.
type Values map[string]Value

// JSON is the JSON object of vs ("{}" for none): the stored form and
// VIGIL_CONF.
func (vs Values) JSON() string {
	if len(vs) == 0 {
		return "{}"
	}
	b, err := json.Marshal(map[string]Value(vs))
	if err != nil {
		// Every Value made by this package marshals.
		panic(fmt.Sprintf("marshal params: %v", err))
	}
	return string(b)
}

// DecodeValues reads the JSON object Values.JSON wrote; "" is none (nil),
// "{}" is empty (not nil).
func DecodeValues(s string) (Values, error) {
	if s == "" {
		return nil, nil
	}
	var vs Values
	if err := json.Unmarshal([]byte(s), &vs); err != nil {
		return nil, fmt.Errorf("decode params: %w", err)
	}
	return vs, nil
}

// Param is a param a DAG declares.
type Param struct {
	Name        string
	Default     Value
	Description string
}

// paramName is what a param name may be: it becomes part of an
// environment variable's name.
var paramName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$`)

// ParamEnvName is the environment variable a task gets a param in:
// VIGIL_PARAM_ and the name upper-cased, any character but a letter or
// digit made '_' (dry-run: VIGIL_PARAM_DRY_RUN).
func ParamEnvName(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return "VIGIL_PARAM_" + string(b)
}

// ParamEnv returns the variables a task gets for its run's effective
// params: VIGIL_PARAM_<NAME> for each, sorted by name, then VIGIL_CONF
// holding them all as one JSON object.
func ParamEnv(vs Values) []EnvVar {
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	sort.Strings(names)
	env := make([]EnvVar, 0, len(names)+1)
	for _, n := range names {
		env = append(env, EnvVar{Name: ParamEnvName(n), Value: vs[n].Text})
	}
	return append(env, EnvVar{Name: "VIGIL_CONF", Value: vs.JSON()})
}

var paramSchema = schema{what: "a param", keys: []string{"default", "description"}}

// params reads the params: mapping, sorted by name.
func (r *reader) params(f field) []Param {
	fields, ok := r.mapping(f.val, "", schema{what: "params", keepNull: true})
	if !ok {
		return nil
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Param
	env := map[string]string{}
	for _, name := range names {
		pf := fields[name]
		if !paramName.MatchString(name) {
			r.errorf(pf.key, "", "bad param name %q: use letters, digits, '_', '.' and '-', starting with a letter, digit or '_', at most 63 characters", name)
			continue
		}
		if other, dup := env[ParamEnvName(name)]; dup {
			r.errorf(pf.key, "", "params %q and %q both become the variable %s; rename one", other, name, ParamEnvName(name))
			continue
		}
		env[ParamEnvName(name)] = name
		p := Param{Name: name}
		val := deref(pf.val)
		if val.Kind == yaml.MappingNode {
			long, ok := r.mapping(val, "", paramSchema)
			if !ok {
				continue
			}
			if d, ok := long["description"]; ok {
				p.Description, _ = r.str(d, "")
			}
			d, ok := long["default"]
			if !ok {
				r.errorf(val, "", "param %q has no default; add default: (a string, a number or true/false), or write it as %s: VALUE", name, name)
				continue
			}
			val = deref(d.val)
		}
		if p.Default, ok = r.value(val, "param "+strconv.Quote(name)); ok {
			out = append(out, p)
		}
	}
	return out
}

// value reads a YAML scalar as a Value: a string (a date too, as
// written), a number or a boolean.
func (r *reader) value(n *yaml.Node, what string) (Value, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			if !utf8.ValidString(n.Value) {
				r.errorf(n, "", "%s is not valid UTF-8; save the file as UTF-8", what)
				return Value{}, false
			}
			return String(n.Value), true
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return Value{Kind: KindBool, Text: strconv.FormatBool(b)}, true
			}
		case "!!int":
			var i int64
			if n.Decode(&i) == nil {
				return Value{Kind: KindNumber, Text: strconv.FormatInt(i, 10)}, true
			}
			// Past int64 it is a float64, as JSON readers take it.
			fallthrough
		case "!!float":
			var f float64
			if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				if v, err := number(strconv.FormatFloat(f, 'g', -1, 64)); err == nil {
					return v, true
				}
			}
			r.errorf(n, "", "%s: %s is not a finite number; quote it to keep it as a string", what, n.Value)
			return Value{}, false
		}
	}
	r.errorf(n, "", "%s must be a string, a number or true/false, got %s", what, describe(n))
	return Value{}, false
}

// ParamsOf returns the params a DAG's canonical encoding (DAGRecord.Source)
// declares, reading nothing else of it.
func ParamsOf(source []byte) ([]Param, error) {
	r := &reader{file: "the stored DAG"}
	var ps []Param
	if doc := r.document(source); doc != nil {
		if fields, ok := r.mapping(doc, "", schema{what: "the DAG"}); ok {
			if f, ok := fields["params"]; ok {
				ps = r.params(f)
			}
		}
	}
	if len(r.errs) > 0 {
		return nil, r.errs.sorted().capped(r.file)
	}
	return ps, nil
}

// ParseConf reads a conf file: a YAML or JSON object of names to strings,
// numbers or booleans. file is used in messages.
func ParseConf(file string, data []byte) (Values, error) {
	r := &reader{file: file, emptyMsg: `the conf file is empty; write a YAML or JSON object like {"region": "eu-west-1"}`}
	doc := r.document(data)
	if doc == nil {
		return nil, r.errs.sorted().capped(r.file)
	}
	fields, ok := r.mapping(doc, "", schema{what: "the conf", keepNull: true})
	conf := Values{}
	if ok {
		for name, f := range fields {
			if v, ok := r.value(f.val, "conf key "+strconv.Quote(name)); ok {
				conf[name] = v
			}
		}
	}
	if len(r.errs) > 0 {
		return nil, r.errs.sorted().capped(r.file)
	}
	return conf, nil
}

// ParseConfPairs reads `--conf KEY=VALUE` pairs; each value is a string
// (ApplyConf reads it as the number or boolean a param declares).
func ParseConfPairs(pairs []string) (Values, error) {
	conf := Values{}
	for _, p := range pairs {
		name, val, ok := strings.Cut(p, "=")
		switch {
		case !ok:
			return nil, fmt.Errorf("--conf %q is not KEY=VALUE; write it like --conf region=eu-west-1 (quote the whole pair if the value has spaces)", p)
		case name == "":
			return nil, fmt.Errorf("--conf %q has no key before '='; write it like --conf region=eu-west-1", p)
		}
		if _, dup := conf[name]; dup {
			return nil, fmt.Errorf("--conf %s is given twice; give each key once", name)
		}
		conf[name] = String(val)
	}
	return conf, nil
}

// ApplyConf returns the effective params of a run of a DAG that declares
// params, given conf: each param's default, overlaid by the conf's value.
//
// When the DAG declares params, a conf key it does not declare is an error
// that suggests the closest declared name, and a value must be of its
// param's kind; a string that reads as the kind (from --conf limit=10) is
// taken as it. A DAG that declares no params takes any conf keys as they
// are, as long as they are valid names that map to distinct variables.
func ApplyConf(params []Param, conf Values) (Values, error) {
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	out := make(Values, len(params)+len(conf))
	if len(params) == 0 {
		env := map[string]string{}
		for _, k := range keys {
			if !paramName.MatchString(k) {
				errs = append(errs, fmt.Errorf("conf key %q is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter, digit or '_', at most 63 characters", k))
				continue
			}
			if other, dup := env[ParamEnvName(k)]; dup {
				errs = append(errs, fmt.Errorf("conf keys %q and %q both become the variable %s; give only one", other, k, ParamEnvName(k)))
				continue
			}
			env[ParamEnvName(k)] = k
			out[k] = conf[k]
		}
		return out, errors.Join(errs...)
	}
	declared := make([]string, len(params))
	byName := make(map[string]Param, len(params))
	for i, p := range params {
		declared[i] = p.Name
		byName[p.Name] = p
		out[p.Name] = p.Default
	}
	for _, k := range keys {
		p, ok := byName[k]
		if !ok {
			if near := closest(k, declared); near != "" {
				errs = append(errs, fmt.Errorf("conf key %q is not a param of the DAG; did you mean %q?", k, near))
			} else {
				errs = append(errs, fmt.Errorf("conf key %q is not a param of the DAG; its params are %s", k, strings.Join(listed(declared), ", ")))
			}
			continue
		}
		v, err := coerce(conf[k], p.Default.Kind)
		if err != nil {
			errs = append(errs, fmt.Errorf("param %q takes a %s (its default is %s): %w", k, p.Default.Kind, p.Default.Text, err))
			continue
		}
		out[k] = v
	}
	return out, errors.Join(errs...)
}

// listed returns at most maxListed names, saying how many more there are.
func listed(names []string) []string {
	if len(names) <= maxListed {
		return names
	}
	return append(slices.Clone(names[:maxListed]), fmt.Sprintf("and %d more", len(names)-maxListed))
}

// coerce returns v as a value of kind, reading a string as a number or
// boolean when the kind asks for one.
func coerce(v Value, kind ValueKind) (Value, error) {
	if v.Kind == kind {
		return v, nil
	}
	if v.Kind != KindString {
		return Value{}, fmt.Errorf("got the %s %s; quote it if it is meant as text", v.Kind, v.Text)
	}
	switch kind {
	case KindNumber:
		if n, err := number(strings.TrimSpace(v.Text)); err == nil {
			return n, nil
		}
		return Value{}, fmt.Errorf("%q is not a number", v.Text)
	case KindBool:
		if b, err := strconv.ParseBool(strings.TrimSpace(v.Text)); err == nil && isBoolWord(v.Text) {
			return Value{Kind: KindBool, Text: strconv.FormatBool(b)}, nil
		}
		return Value{}, fmt.Errorf("%q is not true or false", v.Text)
	}
	return Value{}, fmt.Errorf("got a %s", v.Kind)
}

// isBoolWord accepts true and false in any case, not strconv's 1, t, F.
func isBoolWord(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "true" || s == "false"
}
