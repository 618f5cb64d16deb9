package dag

import (
	"reflect"
	"strings"
	"testing"
)

const paramsDAG = `id: x
max_catchup_runs: 4
params:
  region: eu-west-1
  limit: 100
  ratio: 0.50
  dry-run: false
  big: 12345678901234567890
  when: 2026-01-01
  quoted: "100"
  batch.size:
    default: 0x10
    description: rows per batch
` + oneTask

func num(s string) Value { return Value{Kind: KindNumber, Text: s} }

var (
	yes = Value{Kind: KindBool, Text: "true"}
	no  = Value{Kind: KindBool, Text: "false"}
)

// TestParams: params are read in both forms, sorted by name, each value
// of its kind in canonical form; they and max_catchup_runs survive the
// canonical encoding.
func TestParams(t *testing.T) {
	d, err := Parse("x.yaml", []byte(paramsDAG), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{
		{Name: "batch.size", Default: num("16"), Description: "rows per batch"},
		{Name: "big", Default: num("12345678901234567000")},
		{Name: "dry-run", Default: no},
		{Name: "limit", Default: num("100")},
		{Name: "quoted", Default: String("100")},
		{Name: "ratio", Default: num("0.5")},
		{Name: "region", Default: String("eu-west-1")},
		{Name: "when", Default: String("2026-01-01")},
	}
	if !reflect.DeepEqual(d.Params, want) {
		t.Errorf("Params =\n%v\nwant\n%v", d.Params, want)
	}
	if d.MaxCatchupRuns != 4 {
		t.Errorf("MaxCatchupRuns = %d, want 4", d.MaxCatchupRuns)
	}
	enc, err := Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"\nmax_catchup_runs: 4\n", "\n  quoted: \"100\"\n", "\n  limit: 100\n", "\n  dry-run: false\n",
		"\n  batch.size:\n    default: 16\n    description: rows per batch\n"} {
		if !strings.Contains(string(enc), line) {
			t.Errorf("encoding lacks %q:\n%s", line, enc)
		}
	}
	checkRoundTrip(t, []byte(paramsDAG))
	got, err := ParamsOf(enc)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParamsOf(encoding) = %v, %v; want the parsed params", got, err)
	}
	none, err := ParamsOf([]byte("id: x\n" + oneTask))
	if err != nil || none != nil {
		t.Errorf("ParamsOf(a DAG without params) = %v, %v; want none", none, err)
	}
}

func TestParamErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"not a mapping", "params: [a]\n", `t.yaml:2:9: params must be a mapping of keys to values, got a list`},
		{"null", "params:\n  a:\n", `t.yaml:3:5: param "a" must be a string, a number or true/false, got nothing (null)`},
		{"list value", "params:\n  a: [1]\n", `t.yaml:3:6: param "a" must be a string, a number or true/false, got a list`},
		{"bad name", "params:\n  a b: 1\n", `t.yaml:3:3: bad param name "a b": use letters, digits, '_', '.' and '-', starting with a letter, digit or '_', at most 63 characters`},
		{"colliding names", "params:\n  dry-run: 1\n  dry_run: 2\n", `t.yaml:4:3: params "dry-run" and "dry_run" both become the variable VIGIL_PARAM_DRY_RUN; rename one`},
		{"case collision", "params:\n  Region: a\n  region: b\n", `t.yaml:4:3: params "Region" and "region" both become the variable VIGIL_PARAM_REGION; rename one`},
		{"long form without default", "params:\n  a: {description: d}\n", `t.yaml:3:6: param "a" has no default; add default: (a string, a number or true/false), or write it as a: VALUE`},
		{"long form unknown key", "params:\n  a: {default: 1, descripton: d}\n", `t.yaml:3:19: unknown field "descripton" in a param; did you mean "description"?`},
		{"infinite", "params:\n  a: .inf\n", `t.yaml:3:6: param "a": .inf is not a finite number; quote it to keep it as a string`},
		{"max_catchup_runs zero", "max_catchup_runs: 0\n", `t.yaml:2:19: max_catchup_runs must be at least 1, got 0`},
		{"params key suggested", "parms: {a: 1}\n", `t.yaml:2:1: unknown field "parms" in the DAG; did you mean "params"?`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("id: x\n"+tt.src+oneTask), nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestParamEnvName(t *testing.T) {
	for name, want := range map[string]string{
		"region":     "VIGIL_PARAM_REGION",
		"dry-run":    "VIGIL_PARAM_DRY_RUN",
		"batch.size": "VIGIL_PARAM_BATCH_SIZE",
		"Mixed_Case": "VIGIL_PARAM_MIXED_CASE",
		"1st":        "VIGIL_PARAM_1ST",
	} {
		if got := ParamEnvName(name); got != want {
			t.Errorf("ParamEnvName(%q) = %s, want %s", name, got, want)
		}
	}
	env := ParamEnv(Values{"region": String("eu"), "limit": num("10"), "dry-run": yes})
	want := []EnvVar{
		{"VIGIL_PARAM_DRY_RUN", "true"}, {"VIGIL_PARAM_LIMIT", "10"}, {"VIGIL_PARAM_REGION", "eu"},
		{"VIGIL_CONF", `{"dry-run":true,"limit":10,"region":"eu"}`},
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("ParamEnv = %v, want %v", env, want)
	}
	if env := ParamEnv(nil); !reflect.DeepEqual(env, []EnvVar{{"VIGIL_CONF", "{}"}}) {
		t.Errorf("ParamEnv(nil) = %v, want VIGIL_CONF={} alone", env)
	}
}

func TestParseConfPairs(t *testing.T) {
	got, err := ParseConfPairs([]string{"region=eu-west-1", "limit=10", "expr=a=b", "empty="})
	want := Values{"region": String("eu-west-1"), "limit": String("10"), "expr": String("a=b"), "empty": String("")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseConfPairs = %v, %v; want %v", got, err, want)
	}
	for _, tt := range []struct {
		pairs []string
		want  string
	}{
		{[]string{"region"}, `--conf "region" is not KEY=VALUE; write it like --conf region=eu-west-1 (quote the whole pair if the value has spaces)`},
		{[]string{"=x"}, `--conf "=x" has no key before '='; write it like --conf region=eu-west-1`},
		{[]string{"a=1", "a=2"}, `--conf a is given twice; give each key once`},
	} {
		if _, err := ParseConfPairs(tt.pairs); err == nil || err.Error() != tt.want {
			t.Errorf("ParseConfPairs(%q) = %v, want %s", tt.pairs, err, tt.want)
		}
	}
}

func TestParseConf(t *testing.T) {
	for _, tt := range []struct{ name, src string }{
		{"json", `{"region": "eu", "limit": 10, "ratio": 1.50, "dry-run": true}`},
		{"yaml", "region: eu\nlimit: 10\nratio: 1.50\ndry-run: true\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConf("c", []byte(tt.src))
			want := Values{"region": String("eu"), "limit": num("10"), "ratio": num("1.5"), "dry-run": yes}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("ParseConf = %v, %v; want %v", got, err, want)
			}
		})
	}
	for _, tt := range []struct{ name, src, want string }{
		{"nested", `{"a": {"b": 1}}`, `c.json:1:7: conf key "a" must be a string, a number or true/false, got a mapping`},
		{"null", `{"a": null}`, `c.json:1:7: conf key "a" must be a string, a number or true/false, got nothing (null)`},
		{"list", `[1, 2]`, `c.json:1:1: the conf must be a mapping of keys to values, got a list`},
		{"broken", `{"a": `, `c.json:1: invalid YAML: did not find expected node content; check the indentation and quoting here`},
		{"empty", ``, `c.json: the conf file is empty; write a YAML or JSON object like {"region": "eu-west-1"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseConf("c.json", []byte(tt.src)); err == nil || err.Error() != tt.want {
				t.Errorf("ParseConf error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestApplyConf(t *testing.T) {
	params := []Param{
		{Name: "dry-run", Default: no},
		{Name: "limit", Default: num("100")},
		{Name: "region", Default: String("eu-west-1")},
	}
	defaults := Values{"dry-run": no, "limit": num("100"), "region": String("eu-west-1")}
	for _, tt := range []struct {
		name   string
		params []Param
		conf   Values
		want   Values
		err    string
	}{
		{name: "defaults", params: params, want: defaults},
		{name: "strings read as the declared kind", params: params,
			conf: Values{"limit": String(" 7 "), "dry-run": String("TRUE")},
			want: Values{"dry-run": yes, "limit": num("7"), "region": String("eu-west-1")}},
		{name: "typed values", params: params,
			conf: Values{"limit": num("2.5"), "region": String("us")},
			want: Values{"dry-run": no, "limit": num("2.5"), "region": String("us")}},
		{name: "undeclared, suggested", params: params, conf: Values{"limt": String("1")},
			err: `conf key "limt" is not a param of the DAG; did you mean "limit"?`},
		{name: "undeclared, listed", params: params, conf: Values{"owner": String("me")},
			err: `conf key "owner" is not a param of the DAG; its params are dry-run, limit, region`},
		{name: "not a number", params: params, conf: Values{"limit": String("ten")},
			err: `param "limit" takes a number (its default is 100): "ten" is not a number`},
		{name: "not a boolean", params: params, conf: Values{"dry-run": String("1")},
			err: `param "dry-run" takes a boolean (its default is false): "1" is not true or false`},
		{name: "number for a string", params: params, conf: Values{"region": num("1.1")},
			err: `param "region" takes a string (its default is eu-west-1): got the number 1.1; quote it if it is meant as text`},
		{name: "every problem", params: params, conf: Values{"limit": String("x"), "zzz": String("1")},
			err: "param \"limit\" takes a number (its default is 100): \"x\" is not a number\nconf key \"zzz\" is not a param of the DAG; its params are dry-run, limit, region"},
		{name: "no params: anything goes", conf: Values{"any": String("x"), "n": num("1")},
			want: Values{"any": String("x"), "n": num("1")}},
		{name: "no params: none", want: Values{}},
		{name: "no params: bad name", conf: Values{"a b": String("x")},
			err: `conf key "a b" is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter, digit or '_', at most 63 characters`},
		{name: "no params: colliding names", conf: Values{"dry-run": String("x"), "dry_run": String("y")},
			err: `conf keys "dry-run" and "dry_run" both become the variable VIGIL_PARAM_DRY_RUN; give only one`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ApplyConf(tt.params, tt.conf)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("ApplyConf error\n got: %v\nwant: %s", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ApplyConf = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestValuesJSON: the stored form reads back the same, every kind kept;
// "" is no values, "{}" empty ones.
func TestValuesJSON(t *testing.T) {
	vs := Values{"s": String(`a "b" \ ü`), "n": num("-1.5e-7"), "b": yes, "e": String("")}
	back, err := DecodeValues(vs.JSON())
	if err != nil || !reflect.DeepEqual(back, vs) {
		t.Errorf("DecodeValues(%s) = %v, %v; want %v", vs.JSON(), back, err, vs)
	}
	if v, err := DecodeValues(""); v != nil || err != nil {
		t.Errorf(`DecodeValues("") = %v, %v; want nil`, v, err)
	}
	if v, err := DecodeValues("{}"); v == nil || len(v) != 0 || err != nil {
		t.Errorf(`DecodeValues("{}") = %#v, %v; want empty, not nil`, v, err)
	}
	if _, err := DecodeValues(`{"a": [1]}`); err == nil {
		t.Error(`DecodeValues({"a": [1]}) took a list`)
	}
}
