package notify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

// Message is the generic webhook's JSON body, one notification per
// request (the README documents it).
type Message struct {
	// Version is the body's format; it changes only with a new field's
	// meaning, never by removing one.
	Version int `json:"version"`
	// ID is the notification's id in the store: a receiver may drop a
	// second delivery of the same id (delivery is at least once).
	ID       int64  `json:"id"`
	Event    string `json:"event"` // failure, retry, success or sla_miss
	Receiver string `json:"receiver"`
	DAGID    string `json:"dag_id"`
	RunID    string `json:"run_id"`
	TaskID   string `json:"task_id"`
	Try      int    `json:"try"`
	State    string `json:"state"` // the task's state after the transition
	Reason   string `json:"reason"`
	// At is when the transition happened (RFC 3339, UTC).
	At time.Time `json:"at"`
	// URL is the task's page in the console, when console_url is set.
	URL string `json:"url,omitempty"`
}

func message(n scheduler.Notification, consoleURL string) Message {
	return Message{
		Version: 1, ID: n.ID, Event: string(n.Event), Receiver: n.Receiver,
		DAGID: n.Key.DAGID, RunID: n.Key.RunID, TaskID: n.Key.TaskID, Try: n.Try,
		State: string(n.To), Reason: n.Reason, At: n.At.UTC(), URL: taskURL(consoleURL, n.Key),
	}
}

// taskURL is the console's page of task k, or "".
func taskURL(base string, k scheduler.TaskKey) string {
	if base == "" {
		return ""
	}
	// The console routes by the fragment (console/web/app.js).
	return strings.TrimSuffix(base, "/") + "/#/dags/" + url.PathEscape(k.DAGID) + "/runs/" + url.PathEscape(k.RunID) +
		"/tasks/" + url.PathEscape(k.TaskID)
}

// summary is one line saying what happened.
func summary(n scheduler.Notification) string {
	what := map[scheduler.NotifyEvent]string{
		scheduler.NotifyFailure: "failed", scheduler.NotifyRetry: "will be retried", scheduler.NotifySuccess: "succeeded",
		scheduler.NotifySLAMiss: "missed its SLA",
	}[n.Event]
	return fmt.Sprintf("vigil: task %s of DAG %s (run %s) %s on try %d: %s", n.Key.TaskID, n.Key.DAGID, n.Key.RunID, what, n.Try, n.Reason)
}

// alertmanagerAlert is one alert of Alertmanager's POST /api/v2/alerts
// (postableAlert in its OpenAPI spec).
type alertmanagerAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertTTL is how long a failure or retry alert fires unless sent again:
// Alertmanager resolves an alert at its endsAt.
const alertTTL = time.Hour

// alertnames are the alerts each event raises. A success resolves the
// task's failure alert: same labels, endsAt now.
var alertnames = map[scheduler.NotifyEvent]string{
	scheduler.NotifyFailure: "VigilTaskFailed",
	scheduler.NotifyRetry:   "VigilTaskRetrying",
	scheduler.NotifySuccess: "VigilTaskFailed",
	scheduler.NotifySLAMiss: "VigilTaskSLAMissed",
}

// request returns the URL path suffix and body of n for receiver r.
func body(r Receiver, n scheduler.Notification, consoleURL string) (string, []byte, error) {
	switch r.Type {
	case TypeSlack:
		b, err := json.Marshal(map[string]string{"text": summary(n) + linkSuffix(consoleURL, n.Key)})
		return r.URL, b, err
	case TypeAlertmanager:
		a := alertmanagerAlert{
			Labels: map[string]string{
				"alertname": alertnames[n.Event], "dag_id": n.Key.DAGID, "task_id": n.Key.TaskID,
				"severity": map[scheduler.NotifyEvent]string{scheduler.NotifyRetry: "warning", scheduler.NotifySLAMiss: "warning"}[n.Event],
			},
			Annotations: map[string]string{
				"summary": summary(n), "run_id": n.Key.RunID, "try": fmt.Sprint(n.Try), "reason": n.Reason,
			},
			StartsAt: n.At.UTC(), EndsAt: n.At.UTC().Add(alertTTL), GeneratorURL: taskURL(consoleURL, n.Key),
		}
		if a.Labels["severity"] == "" {
			a.Labels["severity"] = "critical"
		}
		if n.Event == scheduler.NotifySuccess {
			// Resolves the failure alert: StartsAt cannot be known here, so
			// it is the success's time too; Alertmanager keeps the earlier.
			a.EndsAt = n.At.UTC()
		}
		b, err := json.Marshal([]alertmanagerAlert{a})
		return strings.TrimSuffix(r.URL, "/") + "/api/v2/alerts", b, err
	default:
		b, err := json.Marshal(message(n, consoleURL))
		return r.URL, b, err
	}
}

func linkSuffix(consoleURL string, k scheduler.TaskKey) string {
	if u := taskURL(consoleURL, k); u != "" {
		return " <" + u + ">"
	}
	return ""
}
