package main

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestAlertsOnADatabaseOutage: `vigil run` on a PostgreSQL of the test's
// own runs a DAG to success, then the server stops (every connection
// dropped, as a crash would). The scrapes taken before and during the
// outage (the store heartbeat stale, store calls failing) turn
// VigilDatabaseUnreachable on; nothing else fires.
func TestAlertsOnADatabaseOutage(t *testing.T) {
	promtoolPath(t)
	srv := pgtest.StartServer(t)
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	e.db = srv.URL
	health := freeAddr(t)
	e.extra = []string{"--health-addr", health}
	e.start()
	e.waitFor("the DAG to load", 60*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	scrapes := []string{scrapeMetrics(t, health)}
	e.waitFor("the run to finish", 60*time.Second, func() bool {
		return allSucceeded(e.tasks("chain"), 3)
	})
	scrapes = append(scrapes, scrapeMetrics(t, health))

	srv.Stop()
	const stale = `vigil_heartbeat_stale{name="store.db"} 1`
	e.waitFor("the store heartbeat to turn stale", 90*time.Second, func() bool {
		s := scrapeMetrics(t, health)
		scrapes = append(scrapes, s)
		return strings.Contains(s, stale)
	})
	// A few more scrapes of the outage (the rule's for: 1m).
	for range 3 {
		time.Sleep(2 * time.Second)
		scrapes = append(scrapes, scrapeMetrics(t, health))
	}
	last := scrapes[len(scrapes)-1]
	if !strings.Contains(last, stale) {
		t.Errorf("the last scrape lacks %s:\n%s", stale, grepLines(last, "vigil_heartbeat_stale"))
	}
	// The server comes back for the cleanup (pgtest stops it at the end).
	srv.Start()
	checkAlerts(t, scrapes, []firing{
		{"VigilDatabaseUnreachable", map[string]string{"instance": alertInstance, "severity": "critical"}},
	})
}
