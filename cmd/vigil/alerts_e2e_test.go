package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/deploy"
	"github.com/vigilhq/vigil/runbooks"
	"github.com/vigilhq/vigil/scheduler"
)

// The alert rules (deploy/alerts/vigil-rules.yaml) against real scrapes:
// each test stages an incident on a real `vigil run` (or none), scrapes
// its /metrics several times, turns the scrapes into promtool input series
// (one scrape a minute, the last one held), and has promtool, the real
// rule engine, check that exactly the expected alerts fire with the
// expected labels. PROMTOOL comes from testenv/prometheus/promtool.sh
// (make test sets it).

// promtoolPath returns $PROMTOOL or skips t.
func promtoolPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("PROMTOOL")
	if p == "" {
		t.Skip("PROMTOOL is not set: run under `make test` (testenv/kube/setup.sh builds promtool)")
	}
	return p
}

// scrapeMetrics returns the text of a /metrics scrape.
func scrapeMetrics(t *testing.T, health string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + health + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %v", resp.Status, err)
	}
	return string(body)
}

// parseExposition reads the samples of a Prometheus text exposition:
// series (name and labels, as a PromQL selector with extra labels added)
// to value. NaN and infinite values are left out (summary quantiles of an
// idle process).
func parseExposition(t *testing.T, text string, extra map[string]string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for ln, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, labels := line, "", map[string]string{}
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			rest = rest[1:]
			for !strings.HasPrefix(rest, "}") {
				rest = strings.TrimPrefix(rest, ",")
				if strings.HasPrefix(rest, "}") {
					break
				}
				k, after, ok := strings.Cut(rest, `="`)
				if !ok {
					t.Fatalf("exposition line %d: %q: no label value", ln+1, line)
				}
				var v strings.Builder
				i := 0
				for ; i < len(after) && after[i] != '"'; i++ {
					if after[i] == '\\' && i+1 < len(after) {
						i++
						switch after[i] {
						case 'n':
							v.WriteByte('\n')
						default:
							v.WriteByte(after[i])
						}
						continue
					}
					v.WriteByte(after[i])
				}
				if i == len(after) {
					t.Fatalf("exposition line %d: %q: unterminated label value", ln+1, line)
				}
				labels[k] = v.String()
				rest = after[i+1:]
			}
			rest = rest[1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			t.Fatalf("exposition line %d: %q: no value", ln+1, line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			t.Fatalf("exposition line %d: %q: %v", ln+1, line, err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		for k, x := range extra {
			labels[k] = x
		}
		out[selector(name, labels)] = v
	}
	return out
}

// selector writes a series as promtool's input_series wants it.
func selector(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(labels[k])
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// firing is an alert expected to fire: its name and labels (severity
// included, alertname not).
type firing struct {
	alert  string
	labels map[string]string
}

// maxStaged is the most scrapes checkAlerts stages, one a minute.
const maxStaged = 8

// alertInstance is the instance label the staged series carry.
const alertInstance = "vigil-0:8080"

// checkAlerts stages scrapes as one a minute (a series missing from a
// scrape is absent that minute), holds the last scrape for 20 minutes,
// and has promtool check at the last scrape + 10m that exactly want fire
// (every other alert of the rules file silent).
func checkAlerts(t *testing.T, scrapes []string, want []firing) {
	t.Helper()
	checkAlertsIgnoring(t, scrapes, want, nil)
}

// checkAlertsIgnoring is checkAlerts leaving the alerts named in ignore
// unchecked (an incident whose side effects on them are not
// deterministic).
func checkAlertsIgnoring(t *testing.T, scrapes []string, want []firing, ignore []string) {
	t.Helper()
	checkAlertsAt(t, scrapes, want, ignore, 10*time.Minute)
}

// checkAlertsAt is checkAlertsIgnoring with promtool checking at the last
// scrape + after: an alert on how fast a counter grows (increase over a
// window as long as after or shorter) is silent once the held scrape
// fills its window, so it is checked while the window still holds the
// staged growth.
func checkAlertsAt(t *testing.T, scrapes []string, want []firing, ignore []string, after time.Duration) {
	t.Helper()
	checkAlertsStaged(t, scrapes, want, ignore, 0, after)
}

// checkAlertsStaged is checkAlertsAt with the first scrape also standing
// for the lead minutes before it: an alert that compares with a value
// hours old (offset 6h) sees the first scrape there.
func checkAlertsStaged(t *testing.T, scrapes []string, want []firing, ignore []string, lead, after time.Duration) {
	t.Helper()
	promtool := promtoolPath(t)
	// Seconds of a test become minutes of the staged series: at most
	// maxStaged scrapes (the first, the last, evenly between), so that the
	// incident stays inside the rules' 30-minute windows.
	if len(scrapes) > maxStaged {
		picked := make([]string, maxStaged)
		for i := range picked {
			picked[i] = scrapes[i*(len(scrapes)-1)/(maxStaged-1)]
		}
		scrapes = picked
	}
	extra := map[string]string{"instance": alertInstance, "job": "vigil"}
	parsed := make([]map[string]float64, len(scrapes))
	var names []string
	seen := map[string]bool{}
	for i, s := range scrapes {
		parsed[i] = parseExposition(t, s, extra)
		for k := range parsed[i] {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	hold := max(20, int((after+10*time.Minute)/time.Minute))
	leadMin := int(lead / time.Minute)
	var b strings.Builder
	b.WriteString("rule_files:\n  - vigil-rules-labels.yaml\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n")
	for _, n := range names {
		vals := make([]string, 0, len(parsed)+1)
		last := "_"
		if leadMin > 0 {
			// "vxN" is N+1 samples, "_xN" N missing ones.
			first := fmt.Sprintf("_x%d", leadMin)
			if v, ok := parsed[0][n]; ok {
				first = fmt.Sprintf("%sx%d", strconv.FormatFloat(v, 'f', -1, 64), leadMin-1)
			}
			vals = append(vals, first)
		}
		for _, p := range parsed {
			last = "_"
			if v, ok := p[n]; ok {
				last = strconv.FormatFloat(v, 'f', -1, 64)
			}
			vals = append(vals, last)
		}
		vals = append(vals, fmt.Sprintf("%sx%d", last, hold))
		fmt.Fprintf(&b, "      - series: %s\n        values: %s\n", strconv.Quote(n), strconv.Quote(strings.Join(vals, " ")))
	}
	alerts, err := deploy.Alerts(deploy.RulesFile())
	if err != nil {
		t.Fatal(err)
	}
	evalAt := lead + time.Duration(len(scrapes)-1)*time.Minute + after
	b.WriteString("    alert_rule_test:\n")
	for _, a := range alerts {
		if slices.Contains(ignore, a.Name) {
			continue
		}
		fmt.Fprintf(&b, "      - eval_time: %s\n        alertname: %s\n        exp_alerts:", evalAt, a.Name)
		n := 0
		for _, w := range want {
			if w.alert != a.Name {
				continue
			}
			n++
			fmt.Fprintf(&b, "\n          - exp_labels: {")
			var ls []string
			for k, v := range w.labels {
				ls = append(ls, k+": "+strconv.Quote(v))
			}
			sort.Strings(ls)
			fmt.Fprintf(&b, "%s}\n            exp_annotations: {runbook_url: %s}", strings.Join(ls, ", "), strconv.Quote(a.RunbookURL))
		}
		if n == 0 {
			b.WriteString(" []")
		}
		b.WriteString("\n")
	}
	for _, w := range want {
		if !slices.ContainsFunc(alerts, func(a deploy.Alert) bool { return a.Name == w.alert }) {
			t.Fatalf("no alert %s in the rules", w.alert)
		}
	}
	dir := t.TempDir()
	rules, err := deploy.LabelsOnlyRules(deploy.RulesFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vigil-rules-labels.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "staged_test.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "test", "rules", "staged_test.yaml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool test rules on the staged scrapes: %v\n%s", err, out)
		if keep := os.Getenv("VIGIL_KEEP_ALERT_TESTS"); keep != "" {
			_ = os.WriteFile(filepath.Join(keep, t.Name()+".yaml"), []byte(b.String()), 0o644)
		}
	}
}

// TestAlertsSilentOnAHealthyScheduler: a scheduler that runs a DAG to
// success fires no alert.
func TestAlertsSilentOnAHealthyScheduler(t *testing.T) {
	promtoolPath(t)
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	health := freeAddr(t)
	e.extra = []string{"--health-addr", health, "--bundle-dir", filepath.Join(e.dir, "bundles")}
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	var scrapes []string
	scrapes = append(scrapes, scrapeMetrics(t, health))
	e.waitFor("the run to finish", 60*time.Second, func() bool {
		scrapes = append(scrapes, scrapeMetrics(t, health))
		return allSucceeded(e.tasks("chain"), 3)
	})
	// An on-demand bundle is no incident.
	if _, err := e.vigil("runs", "list"); err != nil {
		t.Fatal(err)
	}
	scrapes = append(scrapes, scrapeMetrics(t, health))
	if !strings.Contains(scrapes[len(scrapes)-1], `vigil_task_ends_total{dag="chain",state="success"} 3`) {
		t.Errorf("the last scrape does not count chain's 3 successes:\n%s", grepLines(scrapes[len(scrapes)-1], "vigil_task_ends_total"))
	}
	checkAlerts(t, scrapes, nil)
}

// TestAlertsOnFailuresTimeoutsAndBrokenDAGs stages, on one scheduler, a
// DAG whose task fails run after run, a run past its run_timeout and a
// DAG file that does not load: VigilTaskFailureRate names the failing
// DAG, VigilRunTimedOut the timed-out one, VigilDAGFileNotLoading fires;
// nothing else. It is also the drill of runbooks/task-failures.md: the
// page's first command names the failed tasks and the run timeout.
func TestAlertsOnFailuresTimeoutsAndBrokenDAGs(t *testing.T) {
	promtoolPath(t)
	e := newEnv(t, map[string]string{
		"flaky.yaml":  "id: flaky\ntasks:\n  - id: load\n    command: [sh, -c, 'exit 3']\n",
		"slow.yaml":   runTimeoutDAG,
		"broken.yaml": "id: broken\ntasks:\n  - id: x\n    comand: [true]\n",
	})
	health := freeAddr(t)
	e.extra = []string{"--health-addr", health}
	e.start()
	e.waitFor("the DAGs to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "flaky") && strings.Contains(out, "slow")
	})
	scrapes := []string{scrapeMetrics(t, health)}
	e.mustVigil("dags", "trigger", "slow")
	failed := func() int {
		n := 0
		out, err := e.vigil("tasks", "list", "--dag", "flaky", "--state", "failed", "-o", "json")
		var tis []scheduler.TaskInstance
		if err == nil && unmarshalPage(out, &tis) == nil {
			n = len(tis)
		}
		return n
	}
	for i := 1; i <= 4; i++ {
		e.mustVigil("dags", "trigger", "flaky")
		e.waitFor(fmt.Sprintf("flaky's run %d to fail", i), 30*time.Second, func() bool { return failed() >= i })
		scrapes = append(scrapes, scrapeMetrics(t, health))
	}
	e.waitFor("slow's run to time out", 40*time.Second, func() bool {
		return e.tasks("slow")["hang"].State == scheduler.StateFailed
	})
	scrapes = append(scrapes, scrapeMetrics(t, health))
	last := scrapes[len(scrapes)-1]
	for _, s := range []string{`vigil_runs_timed_out_total{dag="slow"} 1`, `vigil_task_ends_total{dag="flaky",state="failed"} 4`, `vigil_dag_files_failing 1`} {
		if !strings.Contains(last, s) {
			t.Errorf("the last scrape lacks %s", s)
		}
	}
	checkAlerts(t, scrapes, []firing{
		{"VigilTaskFailureRate", map[string]string{"instance": alertInstance, "dag": "flaky", "severity": "warning"}},
		{"VigilRunTimedOut", map[string]string{"instance": alertInstance, "dag": "slow", "severity": "warning"}},
		{"VigilDAGFileNotLoading", map[string]string{"instance": alertInstance, "severity": "warning"}},
	})

	// The drill of task-failures.md: its first command as written.
	tool, args, err := runbooks.FirstCommand("task-failures.md")
	if err != nil || tool != "vigil" {
		t.Fatalf("task-failures.md first command: %s %v (%v)", tool, args, err)
	}
	out := e.mustVigil(args...)
	for _, s := range []string{"flaky", "load", "slow", "hang"} {
		if !strings.Contains(out, s) {
			t.Errorf("%s %v does not name %s:\n%s", tool, args, s, out)
		}
	}
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestAlertsOnDroppedProfileUploads: continuous profiling pointed at a
// port nothing listens on drops every upload; VigilProfileUploadsDropped
// fires from the scrapes, nothing else does.
func TestAlertsOnDroppedProfileUploads(t *testing.T) {
	promtoolPath(t)
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	cfg := filepath.Join(e.dir, "vigil.yaml")
	if err := os.WriteFile(cfg, []byte("debug:\n  pyroscope:\n    upload_rate: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	health := freeAddr(t)
	e.extra = []string{"--config", cfg, "--pyroscope-url", "http://" + freeAddr(t), "--health-addr", health}
	e.start()
	e.waitFor("the health server", 30*time.Second, func() bool {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + health + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	var scrapes []string
	e.waitFor("uploads to be dropped", 60*time.Second, func() bool {
		s := scrapeMetrics(t, health)
		scrapes = append(scrapes, s)
		return strings.Contains(s, "vigil_profile_uploads_dropped_total ") && !strings.Contains(s, "vigil_profile_uploads_dropped_total 0\n") &&
			!strings.Contains(s, "vigil_profile_uploads_dropped_total 1\n") && !strings.Contains(s, "vigil_profile_uploads_dropped_total 2\n")
	})
	checkAlerts(t, scrapes, []firing{{"VigilProfileUploadsDropped", map[string]string{"instance": alertInstance, "severity": "info"}}})
}
