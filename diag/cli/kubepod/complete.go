package kubepod

import (
	"context"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
)

// RegisterCompletions adds dynamic shell completion to root's --pod
// (Running pods, deploy/NAME and statefulset/NAME in the namespace),
// -n/--namespace and --context, read with the kubectl flags already on
// the command line. Every API call has the usual deadline; a completion
// that fails offers nothing rather than an error.
//
// With the kubectl plugin, kubectl runs kubectl_complete-diag for
// `kubectl diag <TAB>`; with diag itself, `diag completion bash` prints
// the script.
func RegisterCompletions(root *cobra.Command, t *cmdutil.TargetFlags) {
	ctxOf := func(cmd *cobra.Command) context.Context {
		// Flag completions get the command completed, which is not the
		// one executed (__complete): the root holds the context.
		if ctx := cmd.Root().Context(); ctx != nil {
			return ctx
		}
		return context.Background()
	}
	_ = root.RegisterFlagCompletionFunc("pod", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		c, err := Connect(t.Kube, t.Timeout)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return c.CompletePod(ctxOf(cmd), toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		c, err := Connect(t.Kube, t.Timeout)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cctx, cancel := c.call(ctxOf(cmd))
		defer cancel()
		list, err := c.Clientset.CoreV1().Namespaces().List(cctx, metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, ns := range list.Items {
			if strings.HasPrefix(ns.Name, toComplete) {
				out = append(out, ns.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("context", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		raw, err := t.Kube.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for name := range raw.Contexts {
			if strings.HasPrefix(name, toComplete) {
				out = append(out, name)
			}
		}
		sort.Strings(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// CompletePod returns the --pod values that start with toComplete: the
// names of Running pods, then deploy/NAME and statefulset/NAME. With a
// kind already typed (sts/vi), only that kind, spelt as typed.
func (c *Cluster) CompletePod(ctx context.Context, toComplete string) []string {
	kinds := []string{"pod", "deploy", "statefulset"}
	typed, prefix := "", toComplete
	if k, name, found := strings.Cut(toComplete, "/"); found {
		ref, err := ParseTarget(k + "/x")
		if err != nil {
			return nil
		}
		kinds, typed, prefix = []string{ref.Kind}, k+"/", name
	}
	var out []string
	for _, kind := range kinds {
		names := c.completeNames(ctx, kind)
		for _, n := range names {
			if !strings.HasPrefix(n, prefix) {
				continue
			}
			switch {
			case typed != "":
				out = append(out, typed+n)
			case kind == "pod":
				out = append(out, n)
			default:
				out = append(out, kind+"/"+n)
			}
		}
	}
	return out
}

// completeNames lists the names of kind in c's namespace, sorted; pods
// only when Running (diag cannot reach the others).
func (c *Cluster) completeNames(ctx context.Context, kind string) []string {
	ctx, cancel := c.call(ctx)
	defer cancel()
	var names []string
	switch kind {
	case "pod":
		list, err := c.Clientset.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil
		}
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				names = append(names, p.Name)
			}
		}
	case "deploy":
		list, err := c.Clientset.AppsV1().Deployments(c.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil
		}
		for _, d := range list.Items {
			names = append(names, d.Name)
		}
	case "statefulset":
		list, err := c.Clientset.AppsV1().StatefulSets(c.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil
		}
		for _, s := range list.Items {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	return names
}
