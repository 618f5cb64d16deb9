package kubeclient

import (
	"context"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// Configs.

func inCluster() {
	cfg, _ := rest.InClusterConfig()
	kubernetes.NewForConfig(cfg) // want `rest.Config from rest.InClusterConfig\(\) \(kube.go:\d+\) has no Timeout and goes to kubernetes.NewForConfig: a request on a dead connection blocks for ~15 minutes unless its context has a deadline; give each request a context with a deadline, or make a second config with Timeout for the short calls: this program also opens a long-lived watch or stream \(kube.go:\d+\), which the config's Timeout would cut`
}

func fromFlags() {
	cfg, _ := clientcmd.BuildConfigFromFlags("", "kubeconfig")
	cfg.QPS = 50
	dynamic.NewForConfig(cfg) // want `clientcmd.BuildConfigFromFlags\(\) .* goes to dynamic.NewForConfig`
}

func loader() {
	cfg, _ := clientcmd.NewDefaultClientConfig().ClientConfig()
	rest.RESTClientFor(cfg) // want `ClientConfig\(\) .* goes to rest.RESTClientFor`
}

func literal() {
	kubernetes.NewForConfigOrDie(&rest.Config{Host: "https://k8s"}) // want `^rest.Config literal \(kube.go:\d+\) has no Timeout and goes to kubernetes.NewForConfigOrDie`
}

func copied(base *rest.Config) {
	cfg := rest.CopyConfig(base) // base is the caller's job
	kubernetes.NewForConfig(cfg)
	own, _ := rest.InClusterConfig()
	cp := rest.CopyConfig(own)
	kubernetes.NewForConfig(cp) // want `rest.InClusterConfig\(\)`
}

func withTimeout() {
	cfg, _ := rest.InClusterConfig()
	cfg.Timeout = 30 * time.Second
	kubernetes.NewForConfig(cfg)
	kubernetes.NewForConfig(&rest.Config{Host: "h", Timeout: time.Minute})
	cp := rest.CopyConfig(cfg)
	kubernetes.NewForConfig(cp)
}

func param(cfg *rest.Config) {
	kubernetes.NewForConfig(cfg)                         // a parameter is the caller's job
	kubernetes.NewForConfig(rest.AddUserAgent(cfg, "x")) // a copy of it too
}

// Contexts.

func background(cs kubernetes.Interface) {
	cs.CoreV1().Pods("ns").Create(context.Background(), &corev1.Pod{}, metav1.CreateOptions{}) // want `client-go call Create with context.Background\(\): a dead connection blocks this call for ~15 minutes; pass a context with a deadline`
	ctx := context.TODO()
	pods := cs.CoreV1().Pods("ns")
	pods.Get(ctx, "p", metav1.GetOptions{}) // want `client-go call Get with context.TODO\(\)`
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	vctx := context.WithValue(cctx, key{}, 1)
	pods.Delete(vctx, "p", metav1.DeleteOptions{}) // want `client-go call Delete with a context derived from context.Background\(\) with no deadline`
}

type key struct{}

func bounded(cs kubernetes.Interface) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
	ctx2, cancel2 := context.WithDeadline(ctx, time.Now().Add(time.Second))
	defer cancel2()
	c3, cancel3 := context.WithCancel(ctx2)
	defer cancel3()
	cs.CoreV1().Pods("ns").List(c3, metav1.ListOptions{})
}

func redeclared(cs kubernetes.Interface) {
	ctx := context.Background()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	go func() {
		cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{}) // captured after the deadline was set
	}()
}

func oneBranch(cs kubernetes.Interface, fast bool) {
	ctx := context.Background()
	if fast {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Second)
		defer cancel()
	}
	cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{}) // want `client-go call List with context.Background\(\)`
}

func captured(cs kubernetes.Interface) {
	ctx := context.Background()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		_, err := cs.CoreV1().Pods("ns").List(gctx, metav1.ListOptions{}) // want `client-go call List with a context derived from context.Background\(\)`
		return err
	})
	g.Wait()
}

func signals(cs kubernetes.Interface) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{}) // want `derived from context.Background\(\)`
}

func withoutCancel(ctx context.Context, cs kubernetes.Interface) {
	cs.CoreV1().Pods("ns").List(context.WithoutCancel(ctx), metav1.ListOptions{}) // want `context.WithoutCancel\(...\) \(it drops any deadline\)`
}

func dyn(d dynamic.Interface) {
	gvr := dynamic.GroupVersionResource{Resource: "widgets"}
	d.Resource(gvr).Namespace("ns").Get(context.Background(), "w", metav1.GetOptions{}) // want `client-go call Get with context.Background`
}

func rawRequest(rc *rest.RESTClient) {
	rc.Get().Namespace("ns").Resource("pods").Do(context.Background()) // want `client-go call Do with context.Background`
	rc.Get().Timeout(5 * time.Second).Namespace("ns").Do(context.Background())
	req := rc.Get().Timeout(time.Second)
	req.DoRaw(context.Background())
	rc.Get().Watch(context.Background())                                             // want `client-go Watch with context.Background`
	rc.Get().VersionedParams(&metav1.ListOptions{}, nil).Watch(context.Background()) // want `client-go Watch with context.Background`
	rc.Get().SleepWithContext(context.Background())                                  // does not wait on the server
}

func rawWatch(rc *rest.RESTClient, opts metav1.ListOptions) {
	rc.Get().VersionedParams(&opts, nil).Watch(context.Background()) // options from the caller: assumed to set TimeoutSeconds
}

// Calls without a context run under context.Background().

func noContext(cs kubernetes.Interface) {
	cs.Discovery().ServerVersion() // want `client-go call ServerVersion has no context: a dead connection blocks this call for ~15 minutes; use ServerVersionWithContext with a context that has a deadline`
	cs.Discovery().RESTClient()
	cs.Discovery().ServerGroups() // want `client-go discovery call ServerGroups has no context, and this client-go has no form that takes one: a dead connection blocks this call for ~15 minutes; set Timeout on the rest.Config the client is built from`
}

// A context-free form of a function passes a background context by
// design: the finding belongs to its callers.

type lister struct{ cs kubernetes.Interface }

func (l *lister) ListWithContext(ctx context.Context) { // want ListWithContext:"param 1 reaches client-go call List"
	l.cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
}

func (l *lister) List() { l.ListWithContext(context.Background()) }

// A context-free form may call another one.

type cachedDiscovery struct{ d discovery.DiscoveryInterface }

func (c *cachedDiscovery) ServerVersion() (*discovery.Info, error) { return c.d.ServerVersion() }

func (c *cachedDiscovery) ServerVersionWithContext(ctx context.Context) (*discovery.Info, error) {
	return nil, nil
}

// Watches.

func watches(cs kubernetes.Interface) {
	pods := cs.CoreV1().Pods("ns")
	pods.Watch(context.Background(), metav1.ListOptions{}) // want `client-go Watch with context.Background\(\): a watch on a dead connection gets no events and never ends; set ListOptions.TimeoutSeconds \(the server ends the watch; watch again\) or pass a context with a deadline per watch; not the config's Timeout, which cuts every watch`
	secs := int64(60)
	pods.Watch(context.Background(), metav1.ListOptions{TimeoutSeconds: &secs})
	opts := metav1.ListOptions{LabelSelector: "a=b"}
	pods.Watch(context.Background(), opts) // want `client-go Watch`
	opts2 := metav1.ListOptions{}
	opts2.TimeoutSeconds = &secs
	pods.Watch(context.Background(), opts2)
}

// Informers and waits.

func informersWait(f informers.SharedInformerFactory, synced cache.InformerSynced) {
	ctx := context.Background()
	cache.WaitForCacheSync(ctx.Done(), synced)               // want `cache.WaitForCacheSync with context.Background\(\): an informer that never syncs`
	cache.WaitForNamedCacheSync("c", wait.NeverStop, synced) // want `cache.WaitForNamedCacheSync with wait.NeverStop`
	f.WaitForCacheSync(ctx.Done())                           // want `informer factory WaitForCacheSync with context.Background`
	f.WaitForCacheSyncWithContext(ctx)                       // want `WaitForCacheSyncWithContext with context.Background`
	cache.WaitForNamedCacheSyncWithContext(ctx, synced)      // want `WaitForNamedCacheSyncWithContext with context.Background`
	wait.PollUntilContextCancel(ctx, time.Second, true, nil) // want `wait.PollUntilContextCancel with context.Background\(\): if the condition never holds it polls forever`
	wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, nil)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cache.WaitForCacheSync(sctx.Done(), synced)
	f.Start(ctx.Done()) // runs until stopped, by design
}

func runInformer(inf cache.SharedIndexInformer) {
	inf.RunWithContext(context.Background()) // runs until cancelled, by design
}

// A client made from a config with a Timeout bounds every call.

func timedClient() {
	cfg, _ := rest.InClusterConfig()
	cfg.Timeout = 30 * time.Second
	cs := kubernetes.NewForConfigOrDie(cfg)
	cs.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	pods := cs.CoreV1().Pods("ns")
	pods.Get(context.TODO(), "p", metav1.GetOptions{})
}

type controller struct {
	cs *kubernetes.Clientset
}

func newController() *controller {
	return &controller{cs: kubernetes.NewForConfigOrDie(&rest.Config{Host: "h", Timeout: time.Minute})}
}

func (c *controller) list() {
	c.cs.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
}

// Suppressions.

func suppressed(cs kubernetes.Interface) {
	//diag:ignore the informer cache answers this without a request
	cs.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	cs.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{}) //diag:ignore same line works too
	// want +2 `client-go call List`
	//diag:ignore
	cs.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
}
