package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
)

// TestAlertsOnAGrowingHeap stages the growth of TestMemoryGrowingDrill
// (diag/cli/e2e) until the heap in use passes the rule's 256 MiB: runs
// that cannot finish pile up (a schedule catching up an hour of @every
// 1s, each run's 400 tasks waiting behind one slot), each keeping its
// task instances in memory. The first scrape, right after start, stands
// for the scheduler 6 hours earlier (the rule compares with offset 6h);
// promtool checks 31 minutes after the last scrape (the rule's for: 30m).
// VigilMemoryGrowing fires; nothing else.
func TestAlertsOnAGrowingHeap(t *testing.T) {
	promtoolPath(t)
	start := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	pile := clitest.WideDAG("pile", "schedule: \"@every 1s\"\nstart_date: "+start+"\ncatchup: true\nmax_active_runs: 100000\nmax_catchup_runs: 100000\n", 400, `["sleep", "600"]`)
	e := newEnv(t, map[string]string{"pile.yaml": pile})
	health := freeAddr(t)
	e.extra = []string{"--health-addr", health, "--parallelism", "1"}
	e.start()
	e.waitFor("the health server", 30*time.Second, func() bool {
		code, _ := probe(health, "/readyz")
		return code != 0
	})
	heap := regexp.MustCompile(`(?m)^go_memstats_heap_inuse_bytes (\S+)$`)
	inUse := func(s string) float64 {
		m := heap.FindStringSubmatch(s)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	scrapes := []string{scrapeMetrics(t, health)}
	const over = 264 << 20 // past the rule's 256 MiB
	// How fast runs pile up depends on the machine's load (make test runs
	// packages side by side on 2 cores): this waits for the heap, not for
	// a time, and only gives up when something is wrong.
	e.waitFor("the heap in use to pass 264 MiB", 10*time.Minute, func() bool {
		time.Sleep(2 * time.Second)
		s := scrapeMetrics(t, health)
		scrapes = append(scrapes, s)
		return inUse(s) > over
	})
	last := scrapes[len(scrapes)-1]
	t.Logf("heap in use %.0f MiB at the first scrape, %.0f MiB at the last (%d scrapes)", inUse(scrapes[0])/(1<<20), inUse(last)/(1<<20), len(scrapes))
	if !strings.Contains(last, "\nvigil_ready 1\n") {
		t.Errorf("the scheduler is not ready at the last scrape: %s", grepLines(last, "vigil_ready"))
	}
	checkAlertsStaged(t, scrapes, []firing{
		{"VigilMemoryGrowing", map[string]string{"instance": alertInstance, "job": "vigil", "severity": "warning"}},
	}, nil, 6*time.Hour, 31*time.Minute)
}
