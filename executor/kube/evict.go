package kube

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/vigilhq/vigil/scheduler"
)

// Pods the cluster ends through no fault of the task (issue 16): they are
// reported as scheduler.EventEvicted, and the scheduler runs the task
// again without using one of its retries. What counts:
//
//   - a DisruptionTarget condition (Kubernetes 1.26+ sets it on every pod
//     it is about to end for its own reasons: the Eviction API, the
//     kubelet's pressure eviction and node shutdown, the scheduler's
//     preemption, the taint manager and pod GC after a node is lost);
//   - the pod's own reason, as kubelets of every version write it:
//     Evicted, Preempting, NodeLost, Terminated or Shutdown (node
//     shutdown);
//   - the task container's ContainerStatusUnknown (exit 137): the kubelet
//     lost the container, usually with its node's runtime.
//
// An OOMKilled container is not among them: the task asked for more memory
// than it was given, and that is its own failure.

// disruptionReasons maps a DisruptionTarget condition's reason to a cause.
var disruptionReasons = map[string]string{
	"EvictionByEvictionAPI":     scheduler.CauseEvicted,
	"TerminationByKubelet":      scheduler.CauseEvicted,
	"PreemptionByScheduler":     scheduler.CausePreempted,
	"PreemptionByKubeScheduler": scheduler.CausePreempted, // its name before 1.29
	"DeletionByTaintManager":    scheduler.CauseNodeLost,
	"DeletionByPodGC":           scheduler.CauseNodeLost,
}

// podReasons maps a pod's status reason to a cause.
var podReasons = map[string]string{
	"Evicted":    scheduler.CauseEvicted,
	"Preempting": scheduler.CausePreempted,
	"NodeLost":   scheduler.CauseNodeLost,
	"Terminated": scheduler.CauseNodeShutdown,
	"Shutdown":   scheduler.CauseNodeShutdown,
}

// containerStatusUnknown is the terminated reason the kubelet gives a
// container it cannot find any more (with exit code 137).
const containerStatusUnknown = "ContainerStatusUnknown"

// disruption says whether the cluster ended pod through no fault of its
// task: the cause (a scheduler.Cause value) and the cluster's words.
func disruption(pod *corev1.Pod) (cause, reason string, ok bool) {
	if cause, ok := podReasons[pod.Status.Reason]; ok {
		return cause, fmt.Sprintf("pod %s %s: %s", pod.Name, pod.Status.Reason, orDash(pod.Status.Message)), true
	}
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.DisruptionTarget || c.Status != corev1.ConditionTrue {
			continue
		}
		cause, ok := disruptionReasons[c.Reason]
		if !ok {
			cause = scheduler.CauseOther
		}
		return cause, fmt.Sprintf("pod %s %s: %s", pod.Name, orDash(c.Reason), orDash(c.Message)), true
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; cs.Name == ContainerName && t != nil && t.Reason == containerStatusUnknown {
			return scheduler.CauseContainerLost, fmt.Sprintf("pod %s container %s: exit code %d (%s): %s",
				pod.Name, cs.Name, t.ExitCode, t.Reason, orDash(strings.TrimSpace(t.Message))), true
		}
	}
	return "", "", false
}
