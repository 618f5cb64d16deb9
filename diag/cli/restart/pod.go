package restart

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/kubepod"
	"github.com/vigilhq/vigil/diag/client"
)

// EventReason is the reason of the Event a pod restart records.
const EventReason = "DiagRestart"

// pod is a scheduler in a Kubernetes pod, reached with --pod and
// restarted by deleting the pod.
type pod struct {
	opts    *Options
	c       *client.Client
	cluster *kubepod.Cluster
	pod     kubepod.Pod
}

func (p *pod) client() *client.Client { return p.c }
func (p *pod) describe() string       { return p.pod.String() }
func (p *pod) close()                 { p.c.Close() }

// check has nothing to refuse: a pod restart signals no pid, it deletes
// the pod resolved through the Kubernetes API (with its UID as a
// precondition). The exec stream cannot say which process serves the
// socket in the pod (no SO_PEERCRED across it), and need not: nothing
// the scheduler reports is acted on but the bundle's name, which is
// checked (bundle.CheckName).
func (p *pod) check(ctx context.Context) error { return nil }

// keepBundle copies the bundle out of the pod: its folder may be deleted
// with it.
func (p *pod) keepBundle(ctx context.Context, b bundle.Info) error {
	path := cmdutil.OutputPath(p.opts.File, b.Name)
	out, err := cmdutil.CreateOutputFile(path)
	if err != nil {
		return err
	}
	defer out.Abort()
	gctx, cancel := p.opts.Factory.Context(ctx, copyGrace)
	defer cancel()
	body, err := p.c.GetBundle(gctx, b.Name)
	if err != nil {
		return fmt.Errorf("copy bundle %s out of the pod: %w", b.Name, err)
	}
	defer body.Close()
	if _, err := io.Copy(out, body); err != nil {
		return fmt.Errorf("copy bundle %s out of the pod: %w", b.Name, err)
	}
	if err := out.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(p.opts.IO.Out, "Bundle: copied here as %s (%s)\n", path, cmdutil.Bytes(out.Size()))
	return nil
}

// restart deletes the pod (only that pod: the UID precondition keeps a
// namesake created since from being deleted) with --grace as its grace
// period, then records an Event on it.
func (p *pod) restart(ctx context.Context, r record) error {
	out, cs, ns := p.opts.IO.Out, p.cluster.Clientset, p.pod.Namespace
	grace := int64(math.Ceil(p.opts.Grace.Seconds()))
	del := metav1.DeleteOptions{GracePeriodSeconds: &grace}
	if p.pod.UID != "" {
		uid := types.UID(p.pod.UID)
		del.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	dctx, cancel := p.opts.Factory.Context(ctx, 0)
	err := cs.CoreV1().Pods(ns).Delete(dctx, p.pod.Name, del)
	cancel()
	switch {
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		return fmt.Errorf("delete pod %s/%s: it is already gone or replaced: %w", ns, p.pod.Name, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("delete pod %s/%s: %w (diag restart --pod needs delete on pods and create on events)", ns, p.pod.Name, err)
	case err != nil:
		return fmt.Errorf("delete pod %s/%s: %w", ns, p.pod.Name, err)
	}
	fmt.Fprintf(out, "Deleted pod %s/%s (grace period %ds)", ns, p.pod.Name, grace)
	if p.pod.Owner != "" {
		fmt.Fprintf(out, "; %s starts a new one: kubectl get pods -n %s -w", p.pod.Owner, ns)
	}
	fmt.Fprintln(out)

	ev := p.event(r)
	ectx, cancel := p.opts.Factory.Context(ctx, 0)
	_, err = cs.CoreV1().Events(ns).Create(ectx, ev, metav1.CreateOptions{})
	cancel()
	if err != nil {
		return fmt.Errorf("the pod was deleted, but recording event %s on it failed: %w", EventReason, err)
	}
	fmt.Fprintf(out, "Recorded event %s on pod %s/%s: %s\n", EventReason, ns, p.pod.Name, ev.Message)
	return nil
}

// event is the Warning Event that tells whoever looks at the pod (kubectl
// describe, kubectl get events) that diag restarted it, who ran diag, why,
// and where the evidence is.
func (p *pod) event(r record) *corev1.Event {
	now := metav1.NewTime(p.opts.Factory.Now())
	reason := r.Reason
	if reason == "" {
		reason = "no reason given"
	}
	if rs := []rune(reason); len(rs) > 512 {
		reason = string(rs[:512]) + "..."
	}
	msg := fmt.Sprintf("Restarted by diag restart, run by %s: %s; ", r.Who, reason)
	if r.Bundle != "" {
		msg += "bundle " + r.Bundle
	} else {
		msg += "no bundle written"
	}
	host, _ := os.Hostname()
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", p.pod.Name, now.UnixNano()),
			Namespace: p.pod.Namespace,
		},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "v1", Kind: "Pod",
			Namespace: p.pod.Namespace, Name: p.pod.Name, UID: types.UID(p.pod.UID),
		},
		Reason:         EventReason,
		Message:        msg,
		Type:           corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "diag", Host: host},
		FirstTimestamp: now,
		LastTimestamp:  now,
		Count:          1,
	}
}
