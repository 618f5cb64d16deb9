package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/vigilhq/vigil/scheduler"
)

// Labels select Vigil's pods; annotations carry the exact try they run,
// since run ids ("manual__2026-11-23T10:00:30.49Z") are not valid label
// values.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "vigil"
	LabelDAG       = "vigil.dev/dag"
	LabelTask      = "vigil.dev/task"
	LabelTry       = "vigil.dev/try"
	LabelRunHash   = "vigil.dev/run-hash"
	// LabelStore is the id of the database whose scheduler made the pod
	// (Options.StoreID).
	LabelStore = "vigil.dev/store"

	AnnotationDAG       = "vigil.dev/dag-id"
	AnnotationRun       = "vigil.dev/run-id"
	AnnotationTask      = "vigil.dev/task-id"
	AnnotationTry       = "vigil.dev/try"
	AnnotationScheduler = "vigil.dev/scheduler"

	// ContainerName is the container that runs the task's command.
	ContainerName = "task"
)

// maxNameLen keeps pod names valid as DNS labels (and so as hostnames).
const maxNameLen = 63

// PodName is the deterministic name of a try's pod: the same try always
// maps to the same name, so a create repeated after a timeout finds the
// pod the first one made (AlreadyExists) instead of starting a second.
// The hash of the full key keeps names unique when ids are truncated.
func PodName(k scheduler.TryKey) string {
	sum := sha256.Sum256([]byte(k.DAGID + "\x00" + k.RunID + "\x00" + k.TaskID))
	hash := hex.EncodeToString(sum[:])[:10]
	suffix := "-" + hash + "-" + strconv.Itoa(k.Try)
	budget := maxNameLen - len("vigil-") - len(suffix) - 1 // 1 for the '-' between the ids
	dag, task := strings.Trim(dnsPart(k.DAGID), "-"), strings.Trim(dnsPart(k.TaskID), "-")
	if len(dag)+len(task) > budget {
		// Share the room, giving one id's unused half to the other.
		dagRoom := max(budget/2, budget-len(task))
		dag = dag[:min(len(dag), dagRoom)]
		task = task[:min(len(task), budget-len(dag))]
	}
	name := "vigil-" + dag + "-" + task + suffix
	for strings.Contains(name, "--") {
		name = strings.ReplaceAll(name, "--", "-")
	}
	return name
}

// dnsPart lowercases id and maps every character a DNS label refuses to '-'.
func dnsPart(id string) string {
	b := []byte(strings.ToLower(id))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return string(b)
}

func runHash(runID string) string {
	sum := sha256.Sum256([]byte(runID))
	return hex.EncodeToString(sum[:])[:16]
}

// TryKeyOf reads the try a pod was made for from its annotations.
func TryKeyOf(pod *corev1.Pod) (scheduler.TryKey, bool) {
	a := pod.Annotations
	try, err := strconv.Atoi(a[AnnotationTry])
	if err != nil || a[AnnotationDAG] == "" || a[AnnotationRun] == "" || a[AnnotationTask] == "" {
		return scheduler.TryKey{}, false
	}
	return scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: a[AnnotationDAG], RunID: a[AnnotationRun], TaskID: a[AnnotationTask]}, Try: try}, true
}

// foreign reports whether pod was made by the scheduler of another
// database (see Options.StoreID).
func (e *Executor) foreign(pod *corev1.Pod) bool {
	id, ok := pod.Labels[LabelStore]
	return ok && e.opts.StoreID != "" && id != labelValue(e.opts.StoreID)
}

// buildPod makes the pod of one try from the base template. An error here
// means the task can never run as written.
func (e *Executor) buildPod(t scheduler.Try) (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	if e.opts.Template != nil {
		pod = e.opts.Template.DeepCopy()
	}
	pod.Name = PodName(t.Key)
	pod.GenerateName = ""
	pod.Namespace = e.opts.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	for k, v := range map[string]string{
		LabelManagedBy: ManagedBy,
		LabelDAG:       labelValue(t.Key.DAGID),
		LabelTask:      labelValue(t.Key.TaskID),
		LabelTry:       strconv.Itoa(t.Key.Try),
		LabelRunHash:   runHash(t.Key.RunID),
	} {
		pod.Labels[k] = v
	}
	if e.opts.StoreID != "" {
		pod.Labels[LabelStore] = labelValue(e.opts.StoreID)
	}
	for k, v := range map[string]string{
		AnnotationDAG:       t.Key.DAGID,
		AnnotationRun:       t.Key.RunID,
		AnnotationTask:      t.Key.TaskID,
		AnnotationTry:       strconv.Itoa(t.Key.Try),
		AnnotationScheduler: e.opts.Instance,
	} {
		pod.Annotations[k] = v
	}
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	if e.opts.ServiceAccount != "" {
		pod.Spec.ServiceAccountName = e.opts.ServiceAccount
	}

	idx := -1
	for i, c := range pod.Spec.Containers {
		if c.Name == ContainerName {
			idx = i
		}
	}
	if idx < 0 {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: ContainerName})
		idx = len(pod.Spec.Containers) - 1
	}
	c := &pod.Spec.Containers[idx]
	c.Image = t.Spec.Image
	if c.Image == "" {
		c.Image = e.opts.DefaultImage
	}
	if c.Image == "" {
		return nil, fmt.Errorf("%w: task %s has no image and the executor has no default image; set image: in the DAG file", scheduler.ErrTaskInvalid, t.Key.TaskKey)
	}
	if len(t.Spec.Command) == 0 {
		return nil, fmt.Errorf("%w: task %s has no command", scheduler.ErrTaskInvalid, t.Key.TaskKey)
	}
	c.Command = append([]string(nil), t.Spec.Command...)
	c.Args = append([]string(nil), t.Spec.Args...)
	for _, ev := range slices.Concat(t.Spec.Env, t.DateEnv(), t.ParamEnv()) {
		c.Env = append(c.Env, corev1.EnvVar{Name: ev.Name, Value: ev.Value})
	}
	c.Env = append(c.Env,
		corev1.EnvVar{Name: "VIGIL_DAG_ID", Value: t.Key.DAGID},
		corev1.EnvVar{Name: "VIGIL_RUN_ID", Value: t.Key.RunID},
		corev1.EnvVar{Name: "VIGIL_TASK_ID", Value: t.Key.TaskID},
		corev1.EnvVar{Name: "VIGIL_TRY", Value: strconv.Itoa(t.Key.Try)},
	)
	res, err := resources(t)
	if err != nil {
		return nil, err
	}
	if len(res.Requests) > 0 || len(res.Limits) > 0 {
		c.Resources = res
	}
	if e.opts.Mutate != nil {
		e.opts.Mutate(pod, t)
	}
	return pod, nil
}

// labelValue fits an id into a label value: at most 63 characters of
// [A-Za-z0-9_.-], starting and ending with an alphanumeric. Valid DAG and
// task ids already fit; anything else is mapped (the exact id is in the
// annotations).
func labelValue(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	return strings.Trim(string(b), "-_.")
}

// resources turns the task's effective resources (preset and overrides,
// resolved when the run was created) into the container's requests and
// limits.
func resources(t scheduler.Try) (corev1.ResourceRequirements, error) {
	r := t.Spec.Resources
	out := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, f := range []struct {
		list  corev1.ResourceList
		name  corev1.ResourceName
		value string
		field string
	}{
		{out.Requests, corev1.ResourceCPU, r.CPU, "cpu"},
		{out.Requests, corev1.ResourceMemory, r.Memory, "memory"},
		{out.Requests, corev1.ResourceEphemeralStorage, r.EphemeralDisk, "ephemeral_disk"},
		{out.Limits, corev1.ResourceCPU, r.CPULimit, "cpu_limit"},
		{out.Limits, corev1.ResourceMemory, r.MemoryLimit, "memory_limit"},
	} {
		if f.value == "" {
			continue
		}
		q, err := resource.ParseQuantity(f.value)
		if err != nil {
			return out, fmt.Errorf("%w: task %s: resources %s %q: %v", scheduler.ErrTaskInvalid, t.Key.TaskKey, f.field, f.value, err)
		}
		f.list[f.name] = q
	}
	return out, nil
}
