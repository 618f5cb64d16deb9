// Package kube runs task tries as Kubernetes pods through client-go: the
// executor Vigil exists for.
//
// Every try is one pod with a deterministic name (PodName), so a create
// repeated after a timeout finds the pod the first create made
// (AlreadyExists counts as success) instead of starting a second: the
// incident of a create that succeeded on the server while the client timed
// out. Every API call carries its own deadline (Timeouts). Pod state comes
// from a shared informer on the executor's namespace, limited to pods
// labelled app.kubernetes.io/managed-by=vigil, and is mapped to executor
// events with reasons: exit codes and terminated reasons, image pull
// backoff, pods pending longer than PendingTimeout, pods deleted by
// someone else.
//
//	ex, err := kube.New(clientset, kube.Options{Namespace: "vigil", DefaultImage: "busybox:1.36", Logger: log})
//	go ex.Run(ctx, events)
//	err = ex.Start(ctx, scheduler.Try{Key: k, Spec: spec})
package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"

	"github.com/vigilhq/vigil/executor/internal/eventq"
	"github.com/vigilhq/vigil/scheduler"
)

var (
	_ scheduler.Executor     = (*Executor)(nil)
	_ scheduler.LogReader    = (*Executor)(nil)
	_ scheduler.OrphanFinder = (*Executor)(nil)
	_ scheduler.Inventory    = (*Executor)(nil)
)

// Timeouts bound each kind of API call.
type Timeouts struct {
	Create time.Duration // default 30s
	Get    time.Duration // default 15s; also list
	Delete time.Duration // default 15s
	Logs   time.Duration // default 30s, for the whole read
	// Sync bounds the wait for the informer's first list.
	Sync time.Duration // default 60s
}

// Options configure an Executor.
type Options struct {
	Namespace string
	// Template is the base pod: metadata, node selector, tolerations,
	// volumes, security context, and optionally a container named "task"
	// to start from. Name, labels for Vigil, restart policy and the task
	// container's image, command, env and resources are set per try.
	Template       *corev1.Pod
	ServiceAccount string
	// DefaultImage runs tasks that name no image.
	DefaultImage string
	// Mutate, if set, adjusts each try's pod after it is built from the
	// template and the task (a sidecar, per-task annotations).
	Mutate func(*corev1.Pod, scheduler.Try)
	// Instance names the scheduler in the pods' annotations.
	Instance string
	// StoreID, if set, is the id of the scheduler's database
	// (scheduler.Store.ID). Pods are labelled with it (LabelStore), and a
	// pod labelled with another id, made by a scheduler of another
	// database in the same namespace, is never taken for a try of this
	// one: not adopted, watched, collected or listed (issue 16). Pods
	// without the label, from before database ids, count as this
	// database's.
	StoreID  string
	Timeouts Timeouts
	// Resync is the informer's resync period.
	Resync time.Duration
	// PendingTimeout fails a try whose pod stays Pending longer
	// (unschedulable, image never pulled). Default 10m.
	PendingTimeout time.Duration
	// DeleteSucceeded deletes a pod once its try's success is on record
	// (Release). A succeeded pod this executor does not track (another
	// scheduler's, or one left by a crash) is kept for KeepFailed first:
	// its owner may still need to read its status.
	DeleteSucceeded bool
	// KeepFailed keeps a failed try's pod this long for inspection, then
	// deletes it. Zero keeps it.
	KeepFailed time.Duration
	Logger     *zap.Logger
	// Beat is called on every turn of the executor's housekeeping loop and
	// at least once a second while Run runs.
	Beat func()
	// WatchBeat is called each time the informer sees the watch canary
	// come back (see canary.go): it proves the watch still delivers.
	WatchBeat func()
	// CanaryPeriod is how often the canary is written. Default 20s.
	CanaryPeriod time.Duration
	Now          func() time.Time
}

func (o *Options) setDefaults() error {
	if o.Namespace == "" {
		return errors.New("kube executor: a namespace is required")
	}
	defaults := []struct {
		d *time.Duration
		v time.Duration
	}{
		{&o.Timeouts.Create, 30 * time.Second},
		{&o.Timeouts.Get, 15 * time.Second},
		{&o.Timeouts.Delete, 15 * time.Second},
		{&o.Timeouts.Logs, 30 * time.Second},
		{&o.Timeouts.Sync, 60 * time.Second},
		{&o.Resync, 30 * time.Second},
		{&o.PendingTimeout, 10 * time.Minute},
		{&o.CanaryPeriod, 20 * time.Second},
	}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.v
		}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Executor runs tries as pods.
type Executor struct {
	cs     kubernetes.Interface
	opts   Options
	log    *zap.Logger
	events eventq.Queue

	mu    sync.Mutex // guards tries and lister
	tries map[scheduler.TryKey]*podTry
	// lister reads the informer's cache once Run has started it.
	lister listersv1.PodLister
	// canaryBusy is set while a canary write is in flight.
	canaryBusy atomic.Bool
	// pendingFailed counts the tries failed for a pod pending past
	// PendingTimeout, by DAG id; guarded by mu.
	pendingFailed map[string]int64
}

// PendingTimeouts returns the tries failed since New because their pod
// stayed Pending past PendingTimeout (unschedulable, image pull backoff...),
// by DAG id.
func (e *Executor) PendingTimeouts() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.pendingFailed)
}

// podTry is what the executor knows of one try's pod.
type podTry struct {
	name string
	// reported is the last event kind sent for this try ("" for none).
	reported scheduler.EventKind
	// stopReason is set once Stop deleted the pod.
	stopReason string
	// recorded is set by Release: the scheduler has the try's end on
	// record, so a succeeded pod may go.
	recorded bool
}

// New returns an executor that creates pods through cs.
func New(cs kubernetes.Interface, opts Options) (*Executor, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	return &Executor{cs: cs, opts: opts, log: opts.Logger, tries: map[scheduler.TryKey]*podTry{}}, nil
}

// Name is the component name in transition records.
func (e *Executor) Name() string { return "executor/kube" }

func (e *Executor) pods() podClient { return e.cs.CoreV1().Pods(e.opts.Namespace) }

type podClient interface {
	Create(ctx context.Context, pod *corev1.Pod, opts metav1.CreateOptions) (*corev1.Pod, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Pod, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// Logs streams the task container's output of a try's pod. The read is
// bounded by Timeouts.Logs.
func (e *Executor) Logs(ctx context.Context, k scheduler.TryKey) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Logs)
	name := PodName(k)
	rc, err := e.cs.CoreV1().Pods(e.opts.Namespace).GetLogs(name, &corev1.PodLogOptions{Container: ContainerName}).Stream(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("logs of pod %s/%s (try %s): %w", e.opts.Namespace, name, k, err)
	}
	return cancelOnClose{rc, cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
