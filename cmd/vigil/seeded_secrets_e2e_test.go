package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestSeededSecretsInNoArtefact runs a real `vigil run` seeded with
// secrets everywhere a user puts them: a password and a password parameter
// in the --db URL, a password or token in the Pyroscope address, task env
// values (one under a credential-like name, one under a harmless one), and
// PGPASSWORD in the scheduler's own environment; with the wire trace in
// bodies mode and the log at debug level. Then it collects every artefact
// an operator or an attacker with the operator's tools can read (the
// scheduler log, a diagnostic bundle with every file in it, the wire trace,
// /metrics, /debug/v1/info, pprof's cmdline, the task report, stacks and
// in-flight calls, tasks list/history -o json, the task's own output, the
// admin commands' output and errors) and fails naming each artefact that
// holds a seeded secret in clear (issue 16).
func TestSeededSecretsInNoArtefact(t *testing.T) {
	t.Run("sqlite-local", func(t *testing.T) {
		runSeeded(t, seededScenario{})
	})
	t.Run("postgres-local", func(t *testing.T) {
		runSeeded(t, seededScenario{postgres: pgtest.FreshDatabase(t)})
	})
	t.Run("sqlite-kubernetes", func(t *testing.T) {
		cs := kubetest.Client(t) // skips without $KUBECONFIG
		runSeeded(t, seededScenario{kubeNS: kubetest.Namespace(t, cs)})
	})
}

type seededScenario struct {
	postgres string // the database URL; SQLite when empty
	kubeNS   string // run tasks as pods in this namespace; local when empty
}

func runSeeded(t *testing.T, sc seededScenario) {
	tag := fmt.Sprintf("%x", time.Now().UnixNano())
	secrets := map[string]string{
		"task env DB_PASSWORD":            "EnvCredVal-" + tag,
		"task env GREETING":               "EnvPlain-" + tag,
		"scheduler's PGPASSWORD":          "SchedPgPw-" + tag,
		"Pyroscope password":              "PyroPw-" + tag,
		"Pyroscope token (URL user)":      "PyroUserTok-" + tag,
		"Pyroscope token (URL parameter)": "PyroParamTok-" + tag,
	}
	// The scheduler's environment: a local task must not inherit it.
	t.Setenv("PGPASSWORD", secrets["scheduler's PGPASSWORD"])

	e := newEnv(t, map[string]string{"seeded.yaml": fmt.Sprintf(`
id: seeded
tasks:
  - id: leaky
    command: [sh, -c, 'env | grep -v -e "^DB_PASSWORD=" -e "^GREETING=" | sort']
    env: {DB_PASSWORD: %[1]q, GREETING: %[2]q}
  - id: slow
    command: [sleep, "60"]
    env: {DB_PASSWORD: %[1]q, GREETING: %[2]q}
`, secrets["task env DB_PASSWORD"], secrets["task env GREETING"])})

	// Pyroscope: the real one of the test environment when there is one,
	// else a loopback port nothing listens on (uploads fail, and the
	// failures are logged too). The address carries basic auth in one
	// scenario and a token as its user in the other, and a token
	// parameter in both.
	pyro := os.Getenv("PYROSCOPE_URL")
	if pyro == "" {
		pyro = "http://" + freeAddr(t)
	}
	pu, err := url.Parse(pyro)
	if err != nil {
		t.Fatal(err)
	}
	if sc.postgres == "" {
		pu.User = url.UserPassword("pyrouser", secrets["Pyroscope password"])
	} else {
		pu.User = url.User(secrets["Pyroscope token (URL user)"])
	}
	pu.RawQuery = "token=" + secrets["Pyroscope token (URL parameter)"]
	if sc.postgres == "" {
		delete(secrets, "Pyroscope token (URL user)")
		// The basic-auth header the uploads send.
		secrets["Pyroscope basic auth (base64)"] = base64.StdEncoding.EncodeToString([]byte("pyrouser:" + secrets["Pyroscope password"]))
	} else {
		delete(secrets, "Pyroscope password")
		secrets["database password"] = "DbPw-" + tag
		secrets["database password parameter"] = "DbParamPw-" + tag
		secrets["database sslpassword parameter"] = "DbSslPw-" + tag
		// The test server trusts loopback connections: it ignores the
		// passwords, which only have to travel through Vigil.
		db := strings.Replace(sc.postgres, "postgres://postgres@", "postgres://postgres:"+secrets["database password"]+"@", 1)
		sep := "?"
		if strings.Contains(db, "?") {
			sep = "&"
		}
		e.db = db + sep + "password=" + secrets["database password parameter"] + "&sslpassword=" + secrets["database sslpassword parameter"]
	}

	for a, sa := range secrets {
		for b, sb := range secrets {
			if a != b && strings.Contains(sa, sb) {
				t.Fatalf("seeded secret %s contains %s: a finding would be ambiguous", a, b)
			}
		}
	}

	cfg := filepath.Join(e.dir, "vigil.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+e.data+"\ndebug:\n  bundle_profile: 300ms\n  pyroscope:\n    upload_rate: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(e.dir, "run")
	health := freeAddr(t)
	e.extra = []string{"--config", cfg, "--runtime-dir", runDir, "--health-addr", health,
		"--wire-trace", "bodies", "--pyroscope-url", pu.String()}
	if sc.kubeNS != "" {
		tmpl := filepath.Join(e.dir, "pod.yaml")
		if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 60s\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		e.extra = append(e.extra, "--executor", "kubernetes", "--kubeconfig", os.Getenv("KUBECONFIG"), "-n", sc.kubeNS,
			"--default-image", "busybox:1.36", "--pod-template", tmpl)
	}
	artefacts := map[string]string{}
	if sc.postgres != "" {
		artefacts["vigil db migrate output"] = e.mustVigil("db", "migrate")
	}
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "seeded")
		return err == nil
	})
	// A running task is in the bundle's tasks.json; a pod's spec, env
	// included, is in the wire trace of its create.
	e.waitFor("both tasks to run (and leaky, run locally, to succeed)", 90*time.Second, func() bool {
		tis := e.tasks("seeded")
		want := scheduler.StateSuccess
		if sc.kubeNS != "" {
			want = scheduler.StateRunning
		}
		return tis["leaky"].State == want && tis["slow"].State == scheduler.StateRunning
	})
	e.waitFor("a Pyroscope upload attempt in the debug log", 30*time.Second, func() bool {
		return strings.Contains(d.logs.String(), "uploading at")
	})

	var eps []debugserver.Endpoint
	e.waitFor("the debug socket", 10*time.Second, func() bool {
		eps, _ = debugserver.Discover(runDir)
		return len(eps) == 1
	})
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", eps[0].Path)
	}}}
	fetch := func(method, u string) string {
		t.Helper()
		req, err := http.NewRequest(method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		client := c
		if strings.HasPrefix(u, "http://"+health) {
			client = &http.Client{Timeout: 30 * time.Second}
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s %s: %s: %s", method, u, resp.Status, b)
		}
		return string(b)
	}
	api := "http://vigil" + debugserver.Prefix
	artefacts["wire trace (/debug/v1/wiretrace)"] = fetch("GET", api+"wiretrace")
	if !strings.Contains(artefacts["wire trace (/debug/v1/wiretrace)"], `"client":"pyroscope"`) &&
		!strings.Contains(artefacts["wire trace (/debug/v1/wiretrace)"], `"client": "pyroscope"`) {
		t.Errorf("the wire trace holds no Pyroscope upload, so it proves little:\n%.2000s", artefacts["wire trace (/debug/v1/wiretrace)"])
	}
	if sc.kubeNS != "" && !strings.Contains(artefacts["wire trace (/debug/v1/wiretrace)"], "DB_PASSWORD") {
		t.Errorf("the wire trace holds no pod body with the task's env, so it proves little:\n%.3000s", artefacts["wire trace (/debug/v1/wiretrace)"])
	}
	artefacts["/debug/v1/info"] = fetch("GET", api+"info")
	artefacts["pprof cmdline"] = fetch("GET", api+"pprof/cmdline")
	if !strings.Contains(artefacts["pprof cmdline"], "--pyroscope-url") {
		t.Errorf("pprof cmdline %q lacks the command line", artefacts["pprof cmdline"])
	}
	artefacts["/debug/v1/tasks"] = fetch("GET", api+"tasks")
	artefacts["/debug/v1/stacks"] = fetch("GET", api+"stacks")
	artefacts["/debug/v1/inflight"] = fetch("GET", api+"inflight")
	artefacts["/metrics"] = fetch("GET", "http://"+health+"/metrics")
	artefacts["/healthz"] = fetch("GET", "http://"+health+"/healthz")

	var bi bundle.Info
	if err := json.Unmarshal([]byte(fetch("POST", api+"bundles?reason=seeded")), &bi); err != nil || bi.Name == "" {
		t.Fatalf("POST bundles: %+v %v", bi, err)
	}
	tarball := filepath.Join(t.TempDir(), bi.Name)
	if err := os.WriteFile(tarball, []byte(fetch("GET", api+"bundles/"+bi.Name)), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := bundle.ReadFiles(tarball)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wiretrace.json", "tasks.json", "config.yaml", "info.json"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the bundle lacks %s (it has %d files)", want, len(files))
		}
	}
	for name, b := range files {
		artefacts["bundle "+name] = string(gunzipped(b))
	}
	if !strings.Contains(artefacts["bundle tasks.json"], "DB_PASSWORD") {
		t.Errorf("the bundle's tasks.json does not show the running task's env, so it proves little:\n%s", artefacts["bundle tasks.json"])
	}

	artefacts["vigil tasks list -o json"] = e.mustVigil("tasks", "list", "--dag", "seeded", "-o", "json")
	// (The API's task instances carry no spec, so no env: the bundle's
	// tasks.json above is what proves the env is checked.)
	artefacts["vigil tasks history -o json"] = e.mustVigil("tasks", "history", "seeded", "latest", "leaky", "-o", "json")
	artefacts["vigil tasks history"] = e.mustVigil("tasks", "history", "seeded", "latest", "leaky")
	artefacts["vigil runs list -o json"] = e.mustVigil("runs", "list", "-o", "json")
	artefacts["vigil dags list -o json"] = e.mustVigil("dags", "list", "-o", "json")
	artefacts["vigil status -o json"] = e.mustVigil("status", "-o", "json")
	if sc.kubeNS == "" {
		// The task's own output: its environment, less its own variables.
		out := e.mustVigil("tasks", "logs", "seeded", "latest", "leaky")
		if !strings.Contains(out, "VIGIL_TASK_ID=leaky") {
			t.Errorf("the task's output does not show its environment:\n%s", out)
		}
		artefacts["task's own environment (vigil tasks logs)"] = out
	}
	if sc.postgres != "" {
		// A command that cannot reach the database quotes its URL (only
		// `vigil db` opens it now).
		bad, err := url.Parse(e.db)
		if err != nil {
			t.Fatal(err)
		}
		bad.Host = freeAddr(t)
		out, err := e.vigilDB(bad.String(), "db", "clean", "--older-than", "30d", "--dry-run")
		if err == nil {
			t.Errorf("db clean on an unreachable database succeeded:\n%s", out)
		}
		artefacts["vigil error on an unreachable database"] = out
	}
	// A clean stop (local tries are stopped with it), and its log lines.
	_ = d.stop(t, syscall.SIGTERM, 60*time.Second)
	artefacts["scheduler log"] = d.logs.String()

	names := make([]string, 0, len(artefacts))
	for name := range artefacts {
		names = append(names, name)
	}
	sort.Strings(names)
	for what, secret := range secrets {
		for _, where := range names {
			if strings.Contains(artefacts[where], secret) {
				t.Errorf("the %s (%s) is in clear in the %s", what, secret, where)
			}
		}
	}
	t.Logf("checked %d seeded secrets against %d artefacts (%d bundle files)", len(secrets), len(artefacts), len(files))
}

// vigilDB runs a `vigil db` command against the database at db.
func (e *env) vigilDB(db string, args ...string) (string, error) {
	saved := e.db
	e.db = db
	defer func() { e.db = saved }()
	return e.vigil(args...)
}

// gunzipped is b decompressed when it is gzip (pprof profiles are), else b.
func gunzipped(b []byte) []byte {
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return b
	}
	out, err := io.ReadAll(io.LimitReader(zr, 256<<20))
	if err != nil {
		return b
	}
	return out
}
