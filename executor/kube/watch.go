package kube

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/vigilhq/vigil/scheduler"
)

// Run watches Vigil's pods and delivers events until ctx ends.
func (e *Executor) Run(ctx context.Context, events chan<- scheduler.Event) error {
	selector := labels.Set{LabelManagedBy: ManagedBy}.AsSelector().String()
	factory := informers.NewSharedInformerFactoryWithOptions(e.cs, e.opts.Resync,
		informers.WithNamespace(e.opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	podInf := factory.Core().V1().Pods()
	informer := podInf.Informer()
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { e.handle(obj, false) },
		UpdateFunc: func(_, obj any) { e.handle(obj, false) },
		DeleteFunc: func(obj any) { e.handle(obj, true) },
	}); err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	if e.opts.WatchBeat != nil {
		canaries := factory.Core().V1().ConfigMaps().Informer()
		if _, err := canaries.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    e.handleCanary,
			UpdateFunc: func(_, obj any) { e.handleCanary(obj) },
		}); err != nil {
			return fmt.Errorf("watch canary: %w", err)
		}
	}
	e.mu.Lock()
	e.lister = podInf.Lister()
	e.mu.Unlock()
	factory.Start(ctx.Done())
	defer factory.Shutdown()

	go e.housekeep(ctx, podInf.Lister())
	syncCtx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Sync)
	if !cache.WaitForCacheSync(syncCtx.Done(), informer.HasSynced) && ctx.Err() == nil {
		e.log.Warn("pod informer not synced yet; events follow once it is", zap.Duration("waited", e.opts.Timeouts.Sync))
	}
	cancel()
	return e.events.Run(ctx, events, e.opts.Beat)
}

func (e *Executor) handle(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok || e.foreign(pod) {
		return
	}
	e.observe(pod, deleted)
}

// observe turns what a pod shows into at most one new event for its try.
func (e *Executor) observe(pod *corev1.Pod, deleted bool) {
	k, ok := TryKeyOf(pod)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	tr := e.tries[k]
	if tr != nil && deleted && isEnd(tr.reported) {
		delete(e.tries, k) // ended and gone: nothing more to say about it
		return
	}
	if tr == nil || isEnd(tr.reported) {
		return
	}
	ev, done := e.outcome(pod)
	switch {
	case done:
	case deleted && tr.stopReason != "":
		// We stopped it: report it as the local executor reports a
		// SIGTERM, with the conventional 128+15.
		ev = e.event(pod, scheduler.EventExited, 143, fmt.Sprintf("stopped: %s (pod %s deleted)", tr.stopReason, pod.Name))
	case deleted:
		if cause, why, ok := disruption(pod); ok {
			// Deleted by the cluster (the Eviction API, preemption, the
			// taint manager after its node was lost), not by a person.
			ev = e.evicted(pod, cause, why+" (pod deleted)")
			break
		}
		ev = e.event(pod, scheduler.EventLost, 0, fmt.Sprintf("pod %s was deleted before it finished (deleted by someone else)", pod.Name))
	case pod.Status.Phase == corev1.PodRunning && tr.reported == "":
		ev = e.event(pod, scheduler.EventStarted, 0, fmt.Sprintf("pod %s running on %s", pod.Name, pod.Spec.NodeName))
	case pod.Status.Phase == corev1.PodPending:
		reason, bad := pendingProblem(pod)
		if !bad {
			return
		}
		// housekeep deletes the pod, so it stops pulling or waiting.
		ev = e.event(pod, scheduler.EventFailed, 0, reason)
	default:
		return
	}
	if isEnd(ev.Kind) && tr.reported == "" && pod.Status.Phase != corev1.PodPending {
		// The pod ran and ended between two looks: say it started first,
		// as the executor contract has it.
		e.events.Push(e.event(pod, scheduler.EventStarted, 0, fmt.Sprintf("pod %s ran on %s", pod.Name, pod.Spec.NodeName)))
	}
	tr.reported = ev.Kind
	e.events.Push(ev)
}

func isEnd(k scheduler.EventKind) bool {
	return k == scheduler.EventExited || k == scheduler.EventLost || k == scheduler.EventFailed || k == scheduler.EventEvicted
}

func (e *Executor) event(pod *corev1.Pod, kind scheduler.EventKind, code int, reason string) scheduler.Event {
	k, _ := TryKeyOf(pod)
	return scheduler.Event{Key: k, Kind: kind, ExternalID: "pod/" + pod.Name, ExitCode: code, Reason: reason, At: e.opts.Now()}
}

func (e *Executor) evicted(pod *corev1.Pod, cause, reason string) scheduler.Event {
	ev := e.event(pod, scheduler.EventEvicted, 0, reason)
	ev.Cause = cause
	return ev
}

// outcome reports a finished pod's end: an eviction (see disruption), or
// the exit code and terminated reason from the task container, or the
// pod's own reason when the container has none.
func (e *Executor) outcome(pod *corev1.Pod) (scheduler.Event, bool) {
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return e.event(pod, scheduler.EventExited, 0, "exit code 0"), true
	case corev1.PodFailed:
		// Before the container's exit code: an evicted pod's container
		// says 137 (killed), which is not the task's failure.
		if cause, why, ok := disruption(pod); ok {
			return e.evicted(pod, cause, why), true
		}
		for _, cs := range pod.Status.ContainerStatuses {
			if cs.Name != ContainerName || cs.State.Terminated == nil {
				continue
			}
			t := cs.State.Terminated
			reason := fmt.Sprintf("exit code %d", t.ExitCode)
			if t.Reason != "" {
				reason += " (" + t.Reason + ")"
			}
			if t.ExitCode == 0 {
				// A failed pod whose container says 0: report it as a
				// failure, never as a success.
				return e.event(pod, scheduler.EventFailed, 0, "pod failed: "+orDash(pod.Status.Reason)+" "+pod.Status.Message), true
			}
			return e.event(pod, scheduler.EventExited, int(t.ExitCode), reason), true
		}
		return e.event(pod, scheduler.EventFailed, 0, fmt.Sprintf("pod failed: %s: %s", orDash(pod.Status.Reason), pod.Status.Message)), true
	}
	return scheduler.Event{}, false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// waitingFailures are container waiting reasons that will not fix
// themselves: the try fails now instead of at the pending timeout.
var waitingFailures = map[string]bool{
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"InvalidImageName":           true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
}

// pendingProblem says whether a pending pod has failed to start.
func pendingProblem(pod *corev1.Pod) (string, bool) {
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && waitingFailures[w.Reason] {
			return fmt.Sprintf("container %s: %s: %s", cs.Name, w.Reason, w.Message), true
		}
	}
	return "", false
}

// waitingReason says why a pending pod has not started, in the cluster's
// words: the scheduler's condition, or the first waiting container.
func waitingReason(pod *corev1.Pod) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return c.Reason + ": " + c.Message
		}
	}
	if pod.Spec.NodeName == "" {
		return "not scheduled"
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return fmt.Sprintf("on node %s, container %s: %s: %s", pod.Spec.NodeName, cs.Name, w.Reason, w.Message)
		}
	}
	return "on node " + pod.Spec.NodeName + ", containers not started"
}

// housekeep fails tries pending too long and collects finished pods per
// the garbage collection policy, until ctx ends.
func (e *Executor) housekeep(ctx context.Context, lister listersv1.PodLister) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var nextCanary time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// The write goes on its own goroutine so a hanging API delays
		// neither pending timeouts nor collection; one at a time.
		if now := e.opts.Now(); e.opts.WatchBeat != nil && !now.Before(nextCanary) && e.canaryBusy.CompareAndSwap(false, true) {
			go func() { defer e.canaryBusy.Store(false); e.writeCanary(ctx) }()
			nextCanary = now.Add(e.opts.CanaryPeriod)
		}
		if e.opts.Beat != nil {
			e.opts.Beat()
		}
		pods, err := lister.List(labels.Everything())
		if err != nil {
			continue
		}
		now := e.opts.Now()
		for _, pod := range pods {
			if e.foreign(pod) {
				continue
			}
			e.pendingTimeout(pod, now)
			e.collect(ctx, pod, now)
		}
	}
}

func (e *Executor) pendingTimeout(pod *corev1.Pod, now time.Time) {
	if pod.Status.Phase != corev1.PodPending || pod.DeletionTimestamp != nil {
		return
	}
	waited := now.Sub(pod.CreationTimestamp.Time)
	if waited < e.opts.PendingTimeout {
		return
	}
	k, ok := TryKeyOf(pod)
	if !ok {
		return
	}
	e.mu.Lock()
	tr := e.tries[k]
	if tr == nil || isEnd(tr.reported) {
		e.mu.Unlock()
		return
	}
	ev := e.event(pod, scheduler.EventFailed, 0, fmt.Sprintf("pod %s pending for %s, longer than the %s limit (%s)", pod.Name, waited.Round(time.Second), e.opts.PendingTimeout, waitingReason(pod)))
	tr.reported = ev.Kind
	if e.pendingFailed == nil {
		e.pendingFailed = map[string]int64{}
	}
	e.pendingFailed[k.DAGID]++
	e.events.Push(ev)
	e.mu.Unlock()
}

// collect deletes pods per policy: a pod whose try failed before it
// started (so it stops pulling or waiting), a succeeded one at once if
// DeleteSucceeded, a failed one after KeepFailed.
func (e *Executor) collect(ctx context.Context, pod *corev1.Pod, now time.Time) {
	if pod.DeletionTimestamp != nil {
		return
	}
	switch pod.Status.Phase {
	case corev1.PodPending, corev1.PodRunning:
		k, ok := TryKeyOf(pod)
		if !ok {
			return
		}
		e.mu.Lock()
		tr := e.tries[k]
		failed := tr != nil && tr.reported == scheduler.EventFailed
		e.mu.Unlock()
		if failed {
			e.deleteQuietly(ctx, pod.Name, "its try failed before it started")
		}
	case corev1.PodSucceeded:
		if !e.opts.DeleteSucceeded {
			return
		}
		k, _ := TryKeyOf(pod)
		e.mu.Lock()
		tr := e.tries[k]
		recorded := tr != nil && tr.recorded
		e.mu.Unlock()
		at, known := finishedAt(pod)
		switch {
		case recorded:
			e.deleteQuietly(ctx, pod.Name, "succeeded, and its end is on record")
		case tr == nil && known && e.opts.KeepFailed > 0 && now.Sub(at) > e.opts.KeepFailed:
			e.deleteQuietly(ctx, pod.Name, fmt.Sprintf("succeeded more than %s ago, untracked here", e.opts.KeepFailed))
		}
	case corev1.PodFailed:
		if at, known := finishedAt(pod); known && e.opts.KeepFailed > 0 && now.Sub(at) > e.opts.KeepFailed {
			e.deleteQuietly(ctx, pod.Name, fmt.Sprintf("failed more than %s ago", e.opts.KeepFailed))
		}
	}
}

// Release marks a try's end as recorded, so its succeeded pod may be
// deleted (scheduler.Releaser).
func (e *Executor) Release(k scheduler.TryKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if tr := e.tries[k]; tr != nil {
		tr.recorded = true
	}
}

// finishedAt is when the task container ended; false when the pod does
// not say (such a pod is kept: collection never guesses).
func finishedAt(pod *corev1.Pod) (time.Time, bool) {
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && !t.FinishedAt.IsZero() {
			return t.FinishedAt.Time, true
		}
	}
	return time.Time{}, false
}

// deleteQuietly deletes a pod with a bounded call; a failure is logged and
// the next housekeeping turn tries again.
func (e *Executor) deleteQuietly(ctx context.Context, name, why string) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Delete)
	defer cancel()
	err := e.pods().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		e.log.Warn("delete pod", zap.String("pod", name), zap.String("why", why), zap.Error(err))
		return
	}
	e.log.Debug("pod deleted", zap.String("pod", name), zap.String("why", why))
}

// Untracked lists tries whose pods are pending or running, older than
// minAge, that this executor does not track (from the informer's cache).
func (e *Executor) Untracked(_ context.Context, minAge time.Duration) ([]scheduler.TryKey, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lister == nil {
		return nil, nil
	}
	pods, err := e.lister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list pods from cache: %w", err)
	}
	now := e.opts.Now()
	var keys []scheduler.TryKey
	for _, pod := range pods {
		k, ok := TryKeyOf(pod)
		if !ok || e.foreign(pod) || pod.DeletionTimestamp != nil || now.Sub(pod.CreationTimestamp.Time) < minAge {
			continue
		}
		if pod.Status.Phase != corev1.PodPending && pod.Status.Phase != corev1.PodRunning {
			continue
		}
		if _, tracked := e.tries[k]; !tracked {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// RemoveOrphan deletes the pod of a try no live task owns.
func (e *Executor) RemoveOrphan(ctx context.Context, k scheduler.TryKey, reason string) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Delete)
	defer cancel()
	name := PodName(k)
	if err := e.pods().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete orphaned pod %s/%s (%s): %w", e.opts.Namespace, name, reason, err)
	}
	e.log.Warn("deleted orphaned pod", zap.String("pod", name), zap.Stringer("try", k), zap.String("reason", reason))
	return nil
}

// Inventory lists the pods of every try in the namespace from the
// informer's cache (no API call), for the reconciliation report.
func (e *Executor) Inventory(_ context.Context) ([]scheduler.Workload, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lister == nil {
		return nil, fmt.Errorf("the pod watch has not started yet")
	}
	pods, err := e.lister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list pods from cache: %w", err)
	}
	var out []scheduler.Workload
	for _, pod := range pods {
		k, ok := TryKeyOf(pod)
		if !ok || e.foreign(pod) {
			continue
		}
		w := scheduler.Workload{Key: k, ExternalID: "pod/" + pod.Name, Phase: string(pod.Status.Phase),
			Created: pod.CreationTimestamp.Time, Deleting: pod.DeletionTimestamp != nil}
		_, w.Tracked = e.tries[k]
		if pod.Status.Phase == corev1.PodPending {
			w.Reason = waitingReason(pod)
		}
		for _, cs := range pod.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil && t.FinishedAt.After(w.Ended) {
				w.Ended = t.FinishedAt.Time
			}
		}
		out = append(out, w)
	}
	return out, nil
}
