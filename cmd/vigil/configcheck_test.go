package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigilhq/vigil/internal/exitcode"
)

// TestConfigErrors pins the exact message of each config file mistake:
// file:line:col, the key's path, what is allowed, "did you mean" at any
// level, no Go type names; a value from a flag is named by the flag.
func TestConfigErrors(t *testing.T) {
	const tail = "\n(the README's Configuration section lists the keys and their rules)"
	tests := []struct {
		name string
		file string
		args []string
		want string // without "c.yaml" dir and tail; "" is no error
	}{
		{"unknown top-level key", "paralelism: 3\n", nil,
			`c.yaml:1:1: unknown key "paralelism"; did you mean "parallelism"?`},
		{"unknown key two levels down", "debug:\n  pyroscope:\n    server_adress: http://x\n", nil,
			`c.yaml:3:5: unknown key "server_adress" in debug.pyroscope; did you mean "server_address"?`},
		{"unknown key in a list item", "api:\n  tokens:\n    - {name: a, rol: operator, file: f}\n", nil,
			`c.yaml:3:17: unknown key "rol" in api.tokens[0]; did you mean "role"?`},
		{"unknown key in a map value", "presets:\n  small: {cpu: 500m, memroy: 1Gi}\n", nil,
			`c.yaml:2:22: unknown key "memroy" in presets.small; did you mean "memory"?`},
		{"unknown key, nothing near", "kube:\n  zzzzzz: 1\n", nil,
			`c.yaml:2:3: unknown key "zzzzzz" in kube (the keys here are burst, context, default_image, delete_succeeded, keep_failed, kubeconfig, namespace, pending_timeout, pod_template, qps, request_timeout, service_account)`},
		{"key given twice", "dags: a\ndags: b\n", nil, `c.yaml:2:1: dags is given twice`},
		{"text for a number", "parallelism: lots\n", nil, `c.yaml:1:14: parallelism: want a whole number, got "lots"`},
		{"fraction for a whole number", "kube:\n  burst: 2.5\n", nil, `c.yaml:2:10: kube.burst: want a whole number, got "2.5"`},
		{"text for a float", "kube:\n  qps: fast\n", nil, `c.yaml:2:8: kube.qps: want a number, got "fast"`},
		{"not a bool", "kube:\n  delete_succeeded: maybe\n", nil, `c.yaml:2:21: kube.delete_succeeded: want true or false, got "maybe"`},
		{"a list for text", "dags: [a, b]\n", nil, `c.yaml:1:7: dags: want a text value, got a list`},
		{"text for a section", "kube: default\n", nil,
			`c.yaml:1:7: kube: want a mapping of keys (burst, context, default_image, delete_succeeded, keep_failed, kubeconfig, namespace, pending_timeout, pod_template, qps, request_timeout, service_account), got "default"`},
		{"duration without unit", "kill_grace: 10\n", nil, `c.yaml:1:13: kill_grace: 10 has no unit: write 10s for seconds, or ms, m, h`},
		{"bad duration", "stale_after: soon\n", nil,
			`c.yaml:1:14: stale_after: "soon" is not a duration: want one such as 30s, 5m or 1h30m (units ns, us, ms, s, m, h)`},
		{"negative parallelism", "parallelism: -5\n", nil,
			`c.yaml:1:14: parallelism: -5: want 1 or more (task instances queued or running at once)`},
		{"zero parallelism", "parallelism: 0\n", nil,
			`c.yaml:1:14: parallelism: 0: want 1 or more (task instances queued or running at once)`},
		{"negative parallelism flag", "", []string{"--parallelism", "-5"},
			`--parallelism -5: want 1 or more (task instances queued or running at once)`},
		{"flag fixes the file", "parallelism: -5\n", []string{"--parallelism", "4"}, ""},
		{"zero interval", "kill_grace: 0s\n", nil, `c.yaml:1:13: kill_grace: 0s: want more than 0 (the wait between SIGTERM and SIGKILL)`},
		{"negative interval", "stale_after: -45s\n", nil,
			`c.yaml:1:14: stale_after: -45s: want more than 0 (silence before other schedulers take the runs)`},
		{"zero timeout", "kube:\n  request_timeout: 0s\n", nil,
			`c.yaml:2:20: kube.request_timeout: 0s: want more than 0 (the deadline of each API request)`},
		{"zero qps", "kube:\n  qps: 0\n", nil, `c.yaml:2:8: kube.qps: 0: want more than 0 (API requests a second)`},
		{"unknown executor", "executor: kubernets\n", nil,
			`c.yaml:1:11: executor: "kubernets": use local or kubernetes (did you mean "kubernetes"?)`},
		{"unknown executor flag", "", []string{"--executor", "docker"}, `--executor "docker": use local or kubernetes`},
		{"bad port", "health_addr: \":99999\"\n", nil, `c.yaml:1:14: health_addr: ":99999": port "99999" is not a number from 0 to 65535`},
		{"address without port", "health_addr: localhost\n", nil, `c.yaml:1:14: health_addr: "localhost": want HOST:PORT or :PORT, such as :8974`},
		{"bad api address flag", "", []string{"--api-addr", "nope"}, `--api-addr "nope": want HOST:PORT or :PORT, such as 127.0.0.1:8975, or "off"`},
		{"api off", "api:\n  addr: \"off\"\n", nil, ""},
		{"wire trace", "debug:\n  wire_trace: verbose\n", nil, `c.yaml:2:15: debug.wire_trace: "verbose": use off, summary, headers or bodies`},
		{"log level", "log_level: debg\n", nil, `c.yaml:1:12: log_level: "debg": use debug, info, warn or error (did you mean "debug"?)`},
		{"every problem, in file order", "parallelism: -5\nkill_grace: 0s\n", []string{"--log-format", "text"},
			"c.yaml:1:14: parallelism: -5: want 1 or more (task instances queued or running at once)\n" +
				"c.yaml:2:13: kill_grace: 0s: want more than 0 (the wait between SIGTERM and SIGKILL)\n" +
				`--log-format "text": use console or json`},
		{"bad preset quantity", "presets:\n  gpu: {cpu: \"8\", memory: lots}\n", nil,
			`c.yaml:2:8: presets.gpu: memory: "lots" is not a quantity; write CPU like 500m or 2 and memory like 256Mi or 4Gi`},
		{"yaml syntax", "dags: [a\n", nil, `c.yaml:1: did not find expected ',' or ']'`},
		{"valid", "parallelism: 4\nkill_grace: 3s\nretention: 30d\ndebug:\n  flight_recorder: 0\nkube:\n  qps: 20.5\n", nil, ""},
		{"receiver type, did you mean", "notifications:\n  receivers:\n    - name: ops\n      type: slak\n      url: https://hooks.example.org/x\n", nil,
			`c.yaml:4:13: notifications.receivers[0] (ops).type: "slak" is not a receiver type; use webhook, slack or alertmanager (did you mean "slack"?)`},
		{"receiver problems, each at its key", "notifications:\n  receivers:\n    - {name: a, type: webhook}\n    - {name: a, type: webhook, url: \"ftp://x\", timeout: -1s, max_attempts: -2}\n", nil,
			"c.yaml:3:7: notifications.receivers[0] (a): give url, or url_file for a URL that is a secret (a Slack webhook's)\n" +
				"c.yaml:4:14: notifications.receivers[1] (a).name: a receiver named \"a\" is declared twice\n" +
				"c.yaml:4:37: notifications.receivers[1] (a).url: the url is not an http:// or https:// URL\n" +
				"c.yaml:4:57: notifications.receivers[1] (a).timeout: -1s: want 0 (the default, 10s) or more\n" +
				"c.yaml:4:76: notifications.receivers[1] (a).max_attempts: -2: want 0 (the default, 5) or more"},
		{"key of another section", "parallelism: 4\nflight_recorder: 0\n", nil,
			`c.yaml:2:1: unknown key "flight_recorder"; did you mean "debug.flight_recorder"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.yaml")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			a := &app{configPath: path}
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			flags := bindRunFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			_, err := a.loadConfig(flags)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("loadConfig: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("loadConfig: no error, want %q", tt.want)
			}
			got := strings.ReplaceAll(err.Error(), dir+string(os.PathSeparator), "")
			want := tt.want
			var ce *configError
			if errors.As(err, &ce) {
				want += tail
			}
			if got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			if statusOf(err) != exitcode.Usage {
				t.Errorf("exit status %d, want %d (usage)", statusOf(err), exitcode.Usage)
			}
			for _, goName := range []string{"!!", "unmarshal", "time.Duration", "int64", "float32", "struct"} {
				if strings.Contains(got, goName) {
					t.Errorf("error names Go's %q: %s", goName, got)
				}
			}
		})
	}
}

// TestConfigKeysAreTagged: the checker knows a key by its yaml tag, so
// every exported field of the config's types needs one (or "-"); a field
// without would be refused as an unknown key.
func TestConfigKeysAreTagged(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var visit func(rt reflect.Type, path string)
	visit = func(rt reflect.Type, path string) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice || rt.Kind() == reflect.Map {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == reflect.TypeFor[time.Time]() || seen[rt] {
			return
		}
		seen[rt] = true
		for i := range rt.NumField() {
			f := rt.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "" || strings.Contains(tag, ",inline") {
				t.Errorf("%s.%s has no yaml key (tag %q): the config checker would refuse it", path, f.Name, tag)
			}
			visit(f.Type, path+"."+f.Name)
		}
	}
	visit(reflect.TypeFor[config](), "config")
}
