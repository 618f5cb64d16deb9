package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigilhq/vigil/scheduler"
)

// Start creates the try's pod. A pod that already exists for the same try
// (an earlier create that timed out on the client but succeeded on the
// server) is the try's pod: no second one is made. A spec the API rejects
// (400, 422) can never run and is returned wrapping ErrTaskInvalid; other
// failures (timeouts, 5xx, 429, conflicts) are returned for the scheduler
// to requeue the try.
func (e *Executor) Start(ctx context.Context, t scheduler.Try) error {
	pod, err := e.buildPod(t)
	if err != nil {
		return err
	}
	// Track before creating, so informer events that beat Create's reply
	// are not dropped; report afresh, since an earlier submit of this try
	// may have been requeued after its events were sent.
	e.track(t.Key, pod.Name, true)

	cctx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Create)
	_, err = e.pods().Create(cctx, pod, metav1.CreateOptions{})
	cancel()
	switch {
	case err == nil:
		e.log.Debug("pod created", zap.String("pod", pod.Name), zap.Stringer("try", t.Key))
		return nil
	case apierrors.IsAlreadyExists(err):
		return e.existing(ctx, t.Key, pod.Name)
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		e.untrack(t.Key)
		return fmt.Errorf("%w: the API rejected pod %s: %v", scheduler.ErrTaskInvalid, pod.Name, apiMessage(err))
	}
	if apierrors.IsForbidden(err) {
		// Neither RBAC nor a full quota changes within seconds: the
		// scheduler keeps the try queued and asks again with backoff.
		return &scheduler.RefusedError{Reason: refusal(err), Err: fmt.Errorf("create pod %s/%s: %w", e.opts.Namespace, pod.Name, err)}
	}
	err = fmt.Errorf("create pod %s/%s: %w", e.opts.Namespace, pod.Name, err)
	if secs, ok := apierrors.SuggestsClientDelay(err); ok && secs > 0 {
		return retryAfter{err: err, after: time.Duration(secs) * time.Second}
	}
	return err
}

// retryAfter carries the server's Retry-After (429, some 5xx) to the
// scheduler, which waits at least that long before the next submit.
type retryAfter struct {
	err   error
	after time.Duration
}

func (r retryAfter) Error() string {
	return fmt.Sprintf("%v (server asks to retry after %s)", r.err, r.after)
}
func (r retryAfter) Unwrap() error             { return r.err }
func (r retryAfter) RetryAfter() time.Duration { return r.after }

// existing handles AlreadyExists: the pod is ours if it runs this try.
func (e *Executor) existing(ctx context.Context, k scheduler.TryKey, name string) error {
	gctx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Get)
	pod, err := e.pods().Get(gctx, name, metav1.GetOptions{})
	cancel()
	if err != nil {
		return fmt.Errorf("pod %s exists but cannot be read: %w", name, err)
	}
	if e.foreign(pod) {
		e.untrack(k)
		e.log.Warn("pod of this try's name was made by the scheduler of another database; not adopting it",
			zap.String("pod", name), zap.Stringer("try", k), zap.String("its_store", pod.Labels[LabelStore]), zap.String("this_store", e.opts.StoreID))
		return fmt.Errorf("%w: pod %s/%s exists and was made by the scheduler of another database (%s=%s; this database is %s); delete it, or run this scheduler in another namespace",
			scheduler.ErrTaskInvalid, e.opts.Namespace, name, LabelStore, pod.Labels[LabelStore], e.opts.StoreID)
	}
	if got, ok := TryKeyOf(pod); !ok || got != k {
		e.untrack(k)
		return fmt.Errorf("%w: pod %s/%s exists and does not belong to try %s (its annotations say %v); delete it or rename the task", scheduler.ErrTaskInvalid, e.opts.Namespace, name, k, got)
	}
	e.log.Info("pod for this try already exists (an earlier create succeeded); not creating another", zap.String("pod", name), zap.Stringer("try", k))
	e.observe(pod, false)
	return nil
}

// refusal names why the API forbade a create: a resource quota used up
// (or whose usage the quota controller has not counted yet), or anything
// else (RBAC, an admission policy) as forbidden.
func refusal(err error) string {
	msg := apiMessage(err)
	if strings.Contains(msg, "exceeded quota") || strings.Contains(msg, "status unknown for quota") {
		return scheduler.RefusedQuota
	}
	return scheduler.RefusedForbidden
}

func apiMessage(err error) string {
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Message
	}
	return err.Error()
}

func (e *Executor) track(k scheduler.TryKey, name string, fresh bool) *podTry {
	e.mu.Lock()
	defer e.mu.Unlock()
	tr := e.tries[k]
	if tr == nil {
		tr = &podTry{name: name}
		e.tries[k] = tr
	}
	if fresh {
		tr.reported = ""
	}
	return tr
}

func (e *Executor) untrack(k scheduler.TryKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.tries, k)
}

// Stop deletes the try's pod (with the pod's grace period: SIGTERM, then
// SIGKILL). Its end comes as an event from the informer.
func (e *Executor) Stop(ctx context.Context, k scheduler.TryKey, reason string) error {
	e.mu.Lock()
	tr := e.tries[k]
	if tr != nil {
		tr.stopReason = reason
	}
	e.mu.Unlock()
	if tr == nil {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Delete)
	defer cancel()
	err := e.pods().Delete(dctx, tr.name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s/%s: %w", e.opts.Namespace, tr.name, err)
	}
	return nil
}

// Adopt looks up a try's pod after a scheduler restart and takes over
// watching it.
func (e *Executor) Adopt(ctx context.Context, k scheduler.TryKey, _ string) (scheduler.Observation, error) {
	name := PodName(k)
	gctx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Get)
	pod, err := e.pods().Get(gctx, name, metav1.GetOptions{})
	cancel()
	if apierrors.IsNotFound(err) {
		return scheduler.Observation{Phase: scheduler.PhaseMissing, ExternalID: "pod/" + name}, nil
	}
	if err != nil {
		return scheduler.Observation{}, fmt.Errorf("get pod %s/%s: %w", e.opts.Namespace, name, err)
	}
	if e.foreign(pod) {
		e.log.Warn("pod of this try's name was made by the scheduler of another database; ignoring it",
			zap.String("pod", name), zap.Stringer("try", k), zap.String("its_store", pod.Labels[LabelStore]), zap.String("this_store", e.opts.StoreID))
		return scheduler.Observation{Phase: scheduler.PhaseMissing, ExternalID: "pod/" + name,
			Reason: fmt.Sprintf("pod %s belongs to another database's scheduler (%s=%s)", name, LabelStore, pod.Labels[LabelStore])}, nil
	}
	obs := scheduler.Observation{ExternalID: "pod/" + name}
	ev, done := e.outcome(pod)
	switch {
	case done && ev.Kind == scheduler.EventExited:
		obs.Phase, obs.ExitCode, obs.Reason = scheduler.PhaseExited, ev.ExitCode, ev.Reason
	case done && ev.Kind == scheduler.EventEvicted:
		obs.Phase, obs.Reason, obs.Cause = scheduler.PhaseEvicted, ev.Reason, ev.Cause
	case done:
		obs.Phase, obs.Reason = scheduler.PhaseLost, ev.Reason
	case pod.DeletionTimestamp != nil:
		if cause, why, ok := disruption(pod); ok {
			// Being deleted by the cluster, typically a pod on a lost node
			// that will never confirm its end.
			obs.Phase, obs.Reason, obs.Cause = scheduler.PhaseEvicted, why+" (pod being deleted)", cause
			break
		}
		obs.Phase, obs.Reason = scheduler.PhaseLost, fmt.Sprintf("pod %s is being deleted", name)
	default:
		obs.Phase = scheduler.PhaseRunning
		e.mu.Lock()
		if _, known := e.tries[k]; !known {
			tr := &podTry{name: name}
			if pod.Status.Phase == corev1.PodRunning {
				tr.reported = scheduler.EventStarted // the scheduler records the adoption
			}
			e.tries[k] = tr
		}
		// A try this executor already tracks is left as it is: Adopt of
		// one's own try changes nothing (the executor contract).
		e.mu.Unlock()
	}
	return obs, nil
}
