package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/client"
)

// apiLocal waits for the local record `vigil run` writes for d in
// runDir and returns it.
func apiLocal(t *testing.T, e *env, d *daemon, runDir string) api.Local {
	t.Helper()
	path := filepath.Join(runDir, "api-"+strconv.Itoa(d.cmd.Process.Pid)+".json")
	var l api.Local
	e.waitFor("the API's local record", 30*time.Second, func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &l) == nil && l.Server != ""
	})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %#o; want 0600", path, fi.Mode().Perm())
	}
	return l
}

// writeToken writes a token file, mode 0600.
func writeToken(t *testing.T, dir, name string) (path, secret string) {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	secret = hex.EncodeToString(b)
	path = filepath.Join(dir, name+".token")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, secret
}

func apiClient(t *testing.T, server, token, ca string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Server: server, Token: token, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func apiStatus(err error) int {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

const sayDAG = `
id: say
params:
  word: hello
tasks:
  - id: hello
    command: [sh, -c, 'echo "$VIGIL_PARAM_WORD from the api"']
`

// TestOperationsAPIOnARealScheduler drives a real `vigil run` through
// its operations API with the Go client: list, trigger, logs, history,
// a clear that runs a failed task again, pause with its history; a
// read-only token may read but not trigger (403), no token gets 401.
func TestOperationsAPIOnARealScheduler(t *testing.T) {
	e := newEnv(t, map[string]string{"etl.yaml": opsDAGs, "say.yaml": sayDAG})
	runDir := filepath.Join(e.dir, "run")
	tokDir := t.TempDir()
	opFile, opSecret := writeToken(t, tokDir, "alice")
	roFile, roSecret := writeToken(t, tokDir, "bob")
	e.extra = []string{"--runtime-dir", runDir, "--api-token", "alice:operator:" + opFile, "--api-token", "bob:read-only:" + roFile}
	d := e.start()
	local := apiLocal(t, e, d, runDir)
	if local.TokenFile != "" {
		t.Errorf("local record names token file %s; want none when tokens are configured", local.TokenFile)
	}
	if !strings.HasPrefix(local.Server, "http://127.0.0.1:") || strings.HasSuffix(local.Server, ":0") {
		t.Errorf("local record's server %q; want http://127.0.0.1:PORT with the real port", local.Server)
	}
	op := apiClient(t, local.Server, opSecret, "")
	ro := apiClient(t, local.Server, roSecret, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		l, err := ro.DAGs(ctx)
		return err == nil && len(l.Items) == 2 && l.Items[0].ID == "etl"
	})

	// Read-only: 403 naming the token and the role it needs.
	_, err := ro.Trigger(ctx, "etl", api.TriggerRequest{})
	if apiStatus(err) != http.StatusForbidden || !strings.Contains(err.Error(), "bob") || !strings.Contains(err.Error(), "operator") {
		t.Fatalf("read-only trigger: %v; want 403 naming bob and the operator role", err)
	}
	// No token: 401 with WWW-Authenticate.
	resp, err := http.Get(local.Server + api.Prefix + "/dags")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d, WWW-Authenticate %q; want 401 Bearer", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	tr, err := op.Trigger(ctx, "etl", api.TriggerRequest{Reason: "api e2e"})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Created || tr.Run.CreatedBy != (api.Actor{Component: "api", Instance: "alice"}) {
		t.Fatalf("trigger: %+v; want a run created by api@alice", tr)
	}
	runID := tr.Run.RunID
	waitRun := func(state string) {
		e.waitFor("run "+runID+" to be "+state, 40*time.Second, func() bool {
			r, err := ro.Run(ctx, "etl", runID)
			return err == nil && r.State == state
		})
	}
	waitRun("failed") // load fails until RAN_DIR/fixed exists

	// A try's output, through the executor that ran it.
	say, err := op.Trigger(ctx, "say", api.TriggerRequest{Conf: map[string]any{"word": "bonjour"}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("say to succeed", 40*time.Second, func() bool {
		r, err := ro.Run(ctx, "say", say.Run.RunID)
		return err == nil && r.State == "success"
	})
	rc, err := ro.Logs(ctx, "say", "latest", "hello", 0)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(rc)
	rc.Close()
	if strings.TrimSpace(string(out)) != "bonjour from the api" {
		t.Errorf("logs of say/hello: %q; want its output", out)
	}

	// Clear the failed task and its downstream: it runs again as try 2.
	if err := os.WriteFile(filepath.Join(e.ran, "fixed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dry, err := op.SubmitOp(ctx, api.OpRequest{Kind: api.OpClearTasks, DAGID: "etl", RunID: "latest", TaskID: "load", Args: api.OpArgs{Downstream: true}, DryRun: true})
	if err != nil || dry.Op != nil || dry.Plan == nil || len(dry.Plan.Changes) != 2 {
		t.Fatalf("dry run: %+v, %v; want a plan of 2 changes and no op", dry, err)
	}
	res, err := op.SubmitOp(ctx, api.OpRequest{Kind: api.OpClearTasks, DAGID: "etl", RunID: "latest", TaskID: "load", Args: api.OpArgs{Downstream: true}, Reason: "fixed"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Op == nil || res.Op.By.Instance != "alice" || res.Op.RunID != runID {
		t.Fatalf("op: %+v; want one by alice on run %s", res.Op, runID)
	}
	waitRun("success")
	ti, err := ro.Task(ctx, "etl", runID, "load")
	if err != nil || ti.Try != 2 || ti.State != "success" {
		t.Fatalf("load after the clear: %+v, %v; want success at try 2", ti, err)
	}
	hist, err := ro.History(ctx, "etl", runID, "load", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cleared := false
	for _, tr := range hist.Transitions {
		if tr.Manual && tr.By.Instance == "alice" && strings.Contains(tr.Reason, "fixed") {
			cleared = true
		}
	}
	if !cleared {
		t.Errorf("load's history has no clear by alice: %+v", hist.Transitions)
	}
	rc, err = ro.Logs(ctx, "etl", runID, "load", 2)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()

	// Pause and unpause, recorded in the DAG's history.
	if _, err := op.SetPaused(ctx, "etl", true, "maintenance"); err != nil {
		t.Fatal(err)
	}
	dg, err := ro.DAG(ctx, "etl")
	if err != nil || !dg.Paused || len(dg.TaskList) != 3 || dg.TaskList[0].ID != "extract" {
		t.Fatalf("paused DAG: %+v, %v; want paused with its 3 tasks in file order", dg, err)
	}
	if _, err := op.SetPaused(ctx, "etl", false, ""); err != nil {
		t.Fatal(err)
	}
	dh, err := ro.DAGHistory(ctx, "etl", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dh.Items) != 2 || dh.Items[0].Action != "unpause" || dh.Items[1].Action != "pause" ||
		dh.Items[1].By.Instance != "alice" || dh.Items[1].Reason != "maintenance" {
		t.Errorf("DAG history: %+v; want unpause then pause by alice (maintenance), newest first", dh.Items)
	}

	h, err := ro.Health(ctx)
	if err != nil || !h.Healthy || len(h.Loops) == 0 {
		t.Errorf("health: %+v, %v; want healthy with loops", h, err)
	}
	if _, err := ro.Run(ctx, "etl", "nope"); !client.IsNotFound(err) || !strings.Contains(err.Error(), "etl/nope") {
		t.Errorf("unknown run: %v; want a 404 naming etl/nope", err)
	}

	if err := d.stop(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("vigil run exited with %v", err)
	}
	if _, err := os.Stat(filepath.Join(runDir, "api-"+strconv.Itoa(d.cmd.Process.Pid)+".json")); !os.IsNotExist(err) {
		t.Errorf("local record left after a clean exit: %v", err)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigil test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestOperationsAPILocalTokenOverTLS: with no token configured, vigil
// run makes a local operator token named after the OS user and names it
// in its local record; with a certificate it serves https, which the
// client verifies with the record's CA file.
func TestOperationsAPILocalTokenOverTLS(t *testing.T) {
	e := newEnv(t, map[string]string{"etl.yaml": opsDAGs})
	runDir := filepath.Join(e.dir, "run")
	cert, key := selfSigned(t, t.TempDir())
	e.extra = []string{"--runtime-dir", runDir, "--api-tls-cert", cert, "--api-tls-key", key}
	d := e.start()
	local := apiLocal(t, e, d, runDir)
	if !strings.HasPrefix(local.Server, "https://127.0.0.1:") || local.CAFile == "" || local.TokenFile == "" {
		t.Fatalf("local record %+v; want an https server, a CA file and a token file", local)
	}
	fi, err := os.Stat(local.TokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("local token %s: %v, %v; want mode 0600", local.TokenFile, fi, err)
	}
	tok, err := os.ReadFile(local.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	c := apiClient(t, local.Server, strings.TrimSpace(string(tok)), local.CAFile)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var who api.WhoAmI
	e.waitFor("the API to answer", 30*time.Second, func() bool {
		who, err = c.WhoAmI(ctx)
		return err == nil
	})
	if !strings.HasPrefix(who.Name, "local:") || who.Role != api.RoleOperator {
		t.Errorf("whoami %+v; want local:USER, operator", who)
	}
	// Plain http to the https port gets nowhere.
	plain := apiClient(t, strings.Replace(local.Server, "https", "http", 1), "x", "")
	if _, err := plain.WhoAmI(ctx); err == nil {
		t.Error("plain http to the https API answered")
	}
	if err := d.stop(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("vigil run exited with %v", err)
	}
	for _, p := range []string{local.TokenFile, filepath.Join(runDir, "api-"+strconv.Itoa(local.PID)+".json")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after a clean exit: %v", p, err)
		}
	}
}

// TestOperationsAPIRefusesOpenAddressWithoutToken: an API reachable from
// other machines with no token configured is refused at start, saying
// what to do; so is a token file others can read.
func TestOperationsAPIRefusesOpenAddressWithoutToken(t *testing.T) {
	e := newEnv(t, map[string]string{"etl.yaml": opsDAGs})
	out, code := runOnce(t, e.dir, "--dags", e.dags, "--db", e.db, "--data-dir", e.data, "--health-addr", freeAddr(t),
		"--runtime-dir", filepath.Join(e.dir, "run"), "--api-addr", "0.0.0.0:0")
	if code == 0 || !strings.Contains(out, "--api-token") {
		t.Errorf("open address without a token: exit %d, output:\n%s\nwant a refusal naming --api-token", code, out)
	}
	loose := filepath.Join(t.TempDir(), "loose.token")
	if err := os.WriteFile(loose, []byte("0123456789abcdef0123456789abcdef"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = runOnce(t, e.dir, "--dags", e.dags, "--db", e.db, "--data-dir", e.data, "--health-addr", freeAddr(t),
		"--runtime-dir", filepath.Join(e.dir, "run"), "--api-token", "carol:operator:"+loose)
	if code == 0 || !strings.Contains(out, "chmod 600 "+loose) {
		t.Errorf("loose token file: exit %d, output:\n%s\nwant a refusal saying chmod 600", code, out)
	}
}
