package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/notify"
)

// alertmanagerBin is the real Alertmanager testenv/alertmanager/build.sh
// builds (make testbin); $VIGIL_ALERTMANAGER overrides it.
func alertmanagerBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("VIGIL_ALERTMANAGER")
	if bin == "" {
		home, _ := os.UserHomeDir()
		bin = filepath.Join(home, ".cache", "vigil", "testbin", "alertmanager")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no Alertmanager at %s: run make testbin (testenv/alertmanager/build.sh) or set VIGIL_ALERTMANAGER", bin)
	}
	return bin
}

// startAlertmanager runs a real Alertmanager on a free loopback port,
// without clustering, until the test ends, and returns its URL.
func startAlertmanager(t *testing.T) string {
	bin := alertmanagerBin(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	out, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("alertmanager log:\n%s", b)
		}
	})
	url := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := client.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("alertmanager not ready after 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type gettableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Status       struct {
		State string `json:"state"`
	} `json:"status"`
}

// alerts is GET /api/v2/alerts of a real Alertmanager.
func alerts(t *testing.T, url string) []gettableAlert {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v2/alerts", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRealAlertmanager: a failure sent to a real Alertmanager (built by
// the test setup at a pinned version) is accepted and listed by its own
// API with the labels and annotations Vigil sent.
func TestRealAlertmanager(t *testing.T) {
	url := startAlertmanager(t)
	at := time.Now().UTC().Truncate(time.Millisecond)
	st, k := failedTaskAt(t, at, "am")
	startSender(t, st, notify.Receiver{Name: "am", Type: notify.TypeAlertmanager, URL: url, Timeout: 5 * time.Second, MaxAttempts: 3})
	n := settled(t, st, k)[0]
	if n.State != scheduler.NotificationSent || n.StatusCode != http.StatusOK {
		t.Fatalf("notification %+v; want sent, 200", n)
	}
	got := alerts(t, url)
	if len(got) != 1 {
		t.Fatalf("alertmanager lists %d alerts: %+v", len(got), got)
	}
	a := got[0]
	want := map[string]string{"alertname": "VigilTaskFailed", "dag_id": "etl", "task_id": "load", "severity": "critical"}
	if fmt.Sprint(a.Labels) != fmt.Sprint(want) {
		t.Errorf("labels %v; want %v", a.Labels, want)
	}
	if a.Annotations["run_id"] != "r1" || a.Annotations["reason"] != "exit code 3" || a.Annotations["summary"] == "" ||
		!a.StartsAt.Equal(at) || !a.EndsAt.Equal(at.Add(time.Hour)) || a.Status.State != "active" ||
		a.GeneratorURL != "http://console.example/#/dags/etl/runs/r1/tasks/load" {
		t.Errorf("alert %+v", a)
	}
}
