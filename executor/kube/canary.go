package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The watch canary proves the watch path end to end: every CanaryPeriod the
// executor writes the time into a ConfigMap of its own, and its informer
// beats WatchBeat when it sees the write come back. A watch that silently
// stops delivering (a dead TCP connection, a stuck stream) stops the beats,
// and the heartbeat goes stale where /healthz and the diag tools show it,
// long before a missed pod event would be noticed any other way.

// LabelCanary marks the canary ConfigMaps.
const LabelCanary = "vigil.dev/watch-canary"

// canaryName is per scheduler instance, so schedulers sharing a namespace
// do not beat each other's hearts.
func (e *Executor) canaryName() string {
	sum := sha256.Sum256([]byte(e.opts.Instance))
	return "vigil-watch-canary-" + hex.EncodeToString(sum[:])[:10]
}

func (e *Executor) handleCanary(obj any) {
	cm, ok := obj.(*corev1.ConfigMap)
	if ok && cm.Name == e.canaryName() && e.opts.WatchBeat != nil {
		e.opts.WatchBeat()
	}
}

// writeCanary writes the current time into the canary, creating it the
// first time. Failures are logged: the stale heartbeat is the signal.
func (e *Executor) writeCanary(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeouts.Get)
	defer cancel()
	cms := e.cs.CoreV1().ConfigMaps(e.opts.Namespace)
	now := e.opts.Now().UTC().Format(time.RFC3339Nano)
	cm, err := cms.Get(ctx, e.canaryName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name:        e.canaryName(),
			Labels:      map[string]string{LabelManagedBy: ManagedBy, LabelCanary: "true"},
			Annotations: map[string]string{AnnotationScheduler: e.opts.Instance},
		}, Data: map[string]string{"beat": now}}
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	case err == nil:
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data["beat"] = now
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		e.log.Warn("watch canary: write failed; the watch heartbeat will go stale if this goes on", zap.Error(err))
	}
}
