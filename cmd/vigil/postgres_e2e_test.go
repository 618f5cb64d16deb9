package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestPostgresStore runs the daemon on PostgreSQL: `vigil run --db
// postgres://…` runs a DAG to the end, the admin commands read the same
// database, and the URL's password shows in no log line and not in the
// debug API's process info.
func TestPostgresStore(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	const password = "pw-8d1f6c0e"
	url = strings.Replace(url, "postgres://postgres@", "postgres://postgres:"+password+"@", 1) // trust auth ignores it

	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	e.db = url
	if out := e.mustVigil("db", "migrate"); !strings.Contains(out, "postgres:REDACTED@") || !strings.Contains(out, "schema up to date") {
		t.Errorf("vigil db migrate: %s", out)
	}
	runtime := t.TempDir()
	e.extra = []string{"--runtime-dir", runtime}
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	e.waitFor("the run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })

	eps, err := debugserver.Discover(runtime)
	if err != nil || len(eps) == 0 {
		t.Fatalf("no debug socket in %s: %v", runtime, err)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", eps[0].Path)
	}}}
	resp, err := c.Get("http://vigil/debug/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(info), "postgres://postgres:REDACTED@") {
		t.Errorf("/info does not show the redacted database URL:\n%s", info)
	}
	for where, text := range map[string]string{"log": d.logs.String(), "/info": string(info)} {
		if strings.Contains(text, password) {
			t.Errorf("the database password appears in the %s", where)
		}
	}
}

// freshDatabase creates a database for one test on the server at admin
// and drops it when the test ends; it returns the new database's URL.
