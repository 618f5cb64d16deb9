package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/toxiproxy"
	"github.com/vigilhq/vigil/runbooks"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/hatest"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestDatabaseUnreachableDrill stages runbooks/database-unreachable.md
// with two `vigil run` processes on one real PostgreSQL: s1 reaches it
// through toxiproxy and owns two runs, s2 directly. The proxy is cut. The
// runbook's first command, exactly as written and run beside the database,
// must first name s1 as STALE still owning its runs, then show s2 owning
// them once s1's beat is older than --stale-after.
func TestDatabaseUnreachableDrill(t *testing.T) {
	direct := pgtest.FreshDatabase(t)
	c := hatest.New(t, direct) // migrates
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := toxiproxy.New(t, u.Host)
	u.Host = proxy.Listen
	viaProxy := u.String()

	e := newEnv(t, map[string]string{"long.yaml": haDAG(2, "60")})
	// As with the defaults (45s), the takeover comes after status calls
	// the heartbeat STALE (three 5s periods).
	const stale = 20 * time.Second
	e.db = viaProxy
	e.extra = []string{"--instance", "s1", "--stale-after", stale.String()}
	e.start()
	var rec scheduler.DAGRecord
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		rec, err = c.Admin.GetDAG(t.Context(), "ha")
		return err == nil
	})
	c.Trigger(rec, 2)
	e.db = direct
	row := func(out, instance string) string {
		return regexp.MustCompile(`(?m)^scheduler +` + instance + ` .*$`).FindString(out)
	}
	e.waitFor("s1 to own both runs", 60*time.Second, func() bool {
		out, _ := e.vigil("status")
		return regexp.MustCompile(` 2 +ok$`).MatchString(row(out, "s1"))
	})
	e.extra = []string{"--instance", "s2", "--stale-after", stale.String()}
	s2 := e.start()
	// Two schedulers run on this machine: the commands ask s2's API (in
	// production each runs in its own pod, and the runbook's command is
	// run against the API the operator reaches).
	e.waitFor("s2 to beat", 60*time.Second, func() bool {
		out, _ := e.vigilVia(s2, "status")
		return strings.HasSuffix(row(out, "s2"), " ok")
	})

	proxy.SetEnabled(false) // s1's database is out of reach
	tool, args, err := runbooks.FirstCommand("database-unreachable.md")
	if err != nil || tool != "vigil" {
		t.Fatalf("runbooks/database-unreachable.md's first command: %s %v (%v); want a vigil command", tool, args, err)
	}
	var out string
	e.waitFor("the runbook's first command to show s1 STALE with its runs", 30*time.Second, func() bool {
		out, _ = e.vigilVia(s2, args...)
		return regexp.MustCompile(` 2 +STALE$`).MatchString(row(out, "s1"))
	})
	t.Logf("vigil %s, s1 cut off:\n%s", strings.Join(args, " "), out)
	e.waitFor("the runbook's first command to show s2 owning the runs", 90*time.Second, func() bool {
		out, _ = e.vigilVia(s2, args...)
		return regexp.MustCompile(` 0 +STALE$`).MatchString(row(out, "s1")) && regexp.MustCompile(` 2 +ok$`).MatchString(row(out, "s2"))
	})
	t.Logf("vigil %s, after the takeover:\n%s", strings.Join(args, " "), out)
}
