package vet

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// KubeClient reports Kubernetes API calls nothing bounds.
var KubeClient = &analysis.Analyzer{
	Name: "kubeclient",
	Doc: `report client-go calls and configs with no timeout

Reports a rest.Config built in a function (literal, rest.InClusterConfig,
clientcmd's BuildConfigFromFlags or ClientConfig, ToRESTConfig, or a copy of
one) without Timeout and handed to a NewForConfig (or RESTClientFor, ...);
a background context (context.Background, TODO, or one derived from them
only by WithCancel, WithValue, NotifyContext or WithoutCancel) passed to a
client-go call: a typed, dynamic or metadata client verb, a rest.Request's
Do, DoRaw, Stream or Watch, discovery, a cache or watch-tools wait; a Watch
without ListOptions.TimeoutSeconds; cache.WaitForCacheSync and informer
factories' WaitForCacheSync given the Done channel of such a context or
wait.NeverStop; wait.PollUntilContextCancel with one; and a client-go call
with no context that has a ...WithContext form (discovery's ServerVersion),
or, in a client-go with no such forms, a discovery request (ServerVersion,
ServerGroups...); all but on a client whose config has a Timeout.`,
	Requires:  []*analysis.Analyzer{buildSSA, Facts},
	FactTypes: []analysis.Fact{new(kubeCtxFact)},
	Run:       runKube,
}

const (
	restPkg    = "k8s.io/client-go/rest"
	clientGo   = "k8s.io/client-go/"
	kubeWhy    = "a dead connection blocks this call for ~15 minutes"
	kubeFix    = "pass a context with a deadline"
	waitPkg    = "k8s.io/apimachinery/pkg/util/wait"
	cachePkg   = "k8s.io/client-go/tools/cache"
	informsWhy = "an informer that never syncs (API unreachable, RBAC denied, CRD missing) blocks it forever"
)

func runKube(pass *analysis.Pass) (any, error) {
	c := newChecker(pass)
	c.sites(func(s *site) {
		if !isConfigSink(s.callee) || s.expr == nil {
			return
		}
		for _, a := range s.expr.Args {
			if !isNamed(c.typeOf(a), restPkg, "Config") {
				continue
			}
			fix := "set the config's Timeout"
			if at := c.streamsAt(); at != "" {
				// Timeout bounds each whole request, streams included.
				fix = "give each request a context with a deadline, or make a second config with Timeout for the short calls: this program also opens a long-lived watch or stream (" +
					at + "), which the config's Timeout would cut"
			}
			for _, b := range c.configsWithoutTimeout(a, 0) {
				c.report(s.pos(), "%s (%s) has no Timeout and goes to %s.%s: a request on a dead connection blocks for ~15 minutes unless its context has a deadline; %s",
					c.describeConfig(b), c.where(b.Pos()), s.callee.Pkg().Name(), s.callee.Name(), fix)
			}
		}
	})
	c.sites(func(s *site) {
		if s.callee == nil || s.callee.Pkg() == pass.Pkg || wrapper(s) {
			return
		}
		if with := withContextForm(s.callee); with != nil && !c.clientHasTimeout(s) {
			c.report(s.pos(), "client-go call %s has no context: %s; use %s with a context that has a deadline", s.callee.Name(), kubeWhy, with.Name())
		} else if with == nil && discoveryRequest(s.callee) && !c.clientHasTimeout(s) {
			c.report(s.pos(), "client-go discovery call %s has no context, and this client-go has no form that takes one: %s; set Timeout on the rest.Config the client is built from", s.callee.Name(), kubeWhy)
		}
	})
	c.flowContexts(c.kubeSink, func() ctxFact { return new(kubeCtxFact) })
	return nil, nil
}

// withContextForm returns the ...WithContext form of the client-go call
// f, when f has no context of its own (discovery's ServerVersion,
// remotecommand's Stream): f then runs under context.Background().
func withContextForm(f *types.Func) *types.Func {
	if f == nil || f.Pkg() == nil || !strings.HasPrefix(f.Pkg().Path(), clientGo) || firstParamIsContext(f) {
		return nil
	}
	with := contextForm(f)
	if with == nil || !strings.HasSuffix(with.Name(), "WithContext") || !clientGoCall(with) || strings.HasPrefix(with.Name(), "WaitFor") {
		return nil // the WaitFor*(stopCh) forms are judged by their channel
	}
	return with
}

// discoveryRequest reports whether f is one of client-go discovery's
// context-free requests to the API server (ServerVersion, ServerGroups,
// ServerResourcesForGroupVersion, ServerGroupsAndResources,
// ServerPreferredResources...), on the interfaces or their clients.
func discoveryRequest(f *types.Func) bool {
	if f == nil || f.Pkg() == nil || f.Signature().Recv() == nil || firstParamIsContext(f) {
		return false
	}
	p := f.Pkg().Path()
	if p != clientGo+"discovery" && !strings.HasPrefix(p, clientGo+"discovery/") {
		return false
	}
	switch f.Name() {
	case "ServerVersion", "ServerGroups", "ServerResources", "ServerResourcesForGroupVersion",
		"ServerGroupsAndResources", "ServerPreferredResources", "ServerPreferredNamespacedResources", "OpenAPISchema":
		return true
	}
	return false
}

// isConfigSink reports whether f makes a client from a *rest.Config:
// NewForConfig and its kin in any package (generated clientsets
// included), RESTClientFor, HTTPClientFor.
func isConfigSink(f *types.Func) bool {
	if f == nil || f.Signature().Recv() != nil {
		return false
	}
	n := f.Name()
	if !strings.Contains(n, "ForConfig") && n != "RESTClientFor" && n != "UnversionedRESTClientFor" && n != "HTTPClientFor" {
		return false
	}
	p := f.Signature().Params()
	for i := range p.Len() {
		if isNamed(p.At(i).Type(), restPkg, "Config") {
			return true
		}
	}
	return false
}

// configOrigin reports whether e builds a rest.Config with no Timeout
// unless one is given: a literal, or a function of rest, clientcmd or
// genericclioptions returning one (InClusterConfig, ClientConfig...).
func (h *holders) configOrigin(e ast.Expr) bool {
	if h.builds(e, restPkg, "Config") {
		return true
	}
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	f := calleeFunc(h.info, call)
	if f == nil || f.Pkg() == nil || isCopyConfig(f) {
		return false
	}
	switch f.Pkg().Path() {
	case restPkg, "k8s.io/client-go/tools/clientcmd", "k8s.io/cli-runtime/pkg/genericclioptions":
	default:
		return false
	}
	r := f.Signature().Results()
	return r.Len() > 0 && isNamed(r.At(0).Type(), restPkg, "Config")
}

// isCopyConfig reports whether f returns a copy of the *rest.Config it
// is given (rest.CopyConfig, AnonymousClientConfig, AddUserAgent): the
// copy has the original's Timeout.
func isCopyConfig(f *types.Func) bool {
	if f == nil || f.Pkg() == nil || f.Pkg().Path() != restPkg {
		return false
	}
	sig := f.Signature()
	return sig.Params().Len() > 0 && isNamed(sig.Params().At(0).Type(), restPkg, "Config") &&
		sig.Results().Len() > 0 && isNamed(sig.Results().At(0).Type(), restPkg, "Config")
}

// configsWithoutTimeout returns the configs built in the package that e
// may hold, with no Timeout and none set later; a config from a
// parameter is the caller's job.
func (c *checker) configsWithoutTimeout(e ast.Expr, depth int) []ast.Expr {
	built, keys := c.hold.origins(e)
	if depth > 4 || c.hold.setLater(keys, "Timeout") {
		return nil
	}
	var bad []ast.Expr
	for _, b := range built {
		if call, ok := b.(*ast.CallExpr); ok && len(call.Args) > 0 {
			if f, _ := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func); isCopyConfig(f) {
				bad = append(bad, c.configsWithoutTimeout(call.Args[0], depth+1)...)
				continue
			}
		}
		if c.hold.configOrigin(b) && !c.hold.hasField(b, "Timeout") {
			bad = append(bad, b)
		} else if c.sum.origin(b, restConfigT).kind == untimed {
			bad = append(bad, b) // a helper's config without Timeout
		}
	}
	return bad
}

// describeConfig names where a config came from, for a message.
func (c *checker) describeConfig(e ast.Expr) string {
	if call, ok := e.(*ast.CallExpr); ok {
		if f, _ := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func); f != nil {
			if f.Signature().Recv() != nil {
				return "rest.Config from " + f.Name() + "()"
			}
			return "rest.Config from " + f.Pkg().Name() + "." + f.Name() + "()"
		}
	}
	return "rest.Config literal"
}

// clientGoCall reports whether f is a client-go call that waits on the
// API server for as long as its context lets it.
func clientGoCall(f *types.Func) bool {
	path := f.Pkg().Path()
	if !strings.HasPrefix(path, clientGo) || strings.HasSuffix(path, "/fake") || !firstParamIsContext(f) {
		return false
	}
	for _, p := range []string{"Run", "Start", "ListAndWatch", "With", "Reset", "Invalidate", "New", "Default", "Context", "Parallelize", "Check", "Fresh"} {
		if strings.HasPrefix(f.Name(), p) {
			return false // runs until cancelled by design, or does not wait
		}
	}
	switch path {
	case restPkg:
		return isMethod(f, restPkg, "Request", "Do", "DoRaw", "Stream", "Watch", "WatchList")
	case clientGo + "tools/leaderelection", clientGo + "tools/record", clientGo + "tools/events", clientGo + "util/workqueue",
		clientGo + "util/flowcontrol", clientGo + "tools/metrics", clientGo + "transport", clientGo + "util/connrotation":
		return false
	}
	return true
}

// kubeSink recognises the client-go calls bounded only by their context
// (or a stop channel).
func (c *checker) kubeSink(s *site) *ctxSink {
	f := s.callee
	if f == nil || f.Pkg() == nil {
		return nil
	}
	switch {
	case isFunc(f, cachePkg, "WaitForCacheSync"):
		return &ctxSink{val: s.arg(0), what: "cache.WaitForCacheSync", why: informsWhy, fix: "pass the Done channel of a context with a deadline"}
	case isFunc(f, cachePkg, "WaitForNamedCacheSync"):
		return &ctxSink{val: s.arg(1), what: "cache.WaitForNamedCacheSync", why: informsWhy, fix: "pass the Done channel of a context with a deadline"}
	case f.Name() == "WaitForCacheSync" && f.Signature().Recv() != nil && strings.HasPrefix(f.Pkg().Path(), clientGo):
		return &ctxSink{val: s.arg(0), what: "informer factory WaitForCacheSync", why: informsWhy, fix: "pass the Done channel of a context with a deadline"}
	case isFunc(f, waitPkg, "PollUntilContextCancel"):
		return &ctxSink{val: s.arg(0), what: "wait.PollUntilContextCancel", why: "if the condition never holds it polls forever", fix: "pass a context with a deadline or use wait.PollUntilContextTimeout"}
	case !clientGoCall(f):
		return nil
	case f.Name() == "Watch" && c.watchHasTimeout(s):
		return nil
	case isMethod(f, restPkg, "Request", "Watch") && c.requestHasTimeout(s, true):
		return nil
	case isMethod(f, restPkg, "Request") && c.requestHasTimeout(s, false):
		return nil
	case c.clientHasTimeout(s):
		return nil
	case strings.HasPrefix(f.Name(), "WaitFor"):
		return &ctxSink{val: s.arg(0), what: f.Name(), why: informsWhy, fix: kubeFix}
	case f.Name() == "Watch":
		return &ctxSink{val: s.arg(0), what: "client-go Watch", why: "a watch on a dead connection gets no events and never ends",
			fix: "set ListOptions.TimeoutSeconds (the server ends the watch; watch again) or pass a context with a deadline per watch; not the config's Timeout, which cuts every watch"}
	case isMethod(f, restPkg, "Request", "Stream"):
		return &ctxSink{val: s.arg(0), what: "client-go Stream (a long-lived stream: logs, exec, port-forward)",
			why: "a dead connection stalls it with no error and no end", fix: streamFix}
	}
	return &ctxSink{val: s.arg(0), what: "client-go call " + f.Name(), why: kubeWhy, fix: kubeFix}
}

// watchHasTimeout reports whether a Watch(ctx, opts) call's options set
// TimeoutSeconds, or may: options from elsewhere are not judged.
func (c *checker) watchHasTimeout(s *site) bool {
	if s.expr == nil || len(s.expr.Args) < 2 {
		return false
	}
	return c.optionsHaveTimeout(s.expr.Args[1])
}

// optionsHaveTimeout reports whether the ListOptions opts may set
// TimeoutSeconds: it does, or they come from elsewhere.
func (c *checker) optionsHaveTimeout(opts ast.Expr) bool {
	built, keys := c.hold.origins(opts)
	if c.hold.setLater(keys, "TimeoutSeconds") {
		return true
	}
	if len(built) == 0 {
		return true
	}
	for _, b := range built {
		if !c.hold.builds(b, "k8s.io/apimachinery/pkg/apis/meta/v1", "ListOptions") || c.hold.hasField(b, "TimeoutSeconds") {
			return true
		}
	}
	return false
}

// receiverChain returns the receivers of the method calls s is the end
// of, innermost last: for cs.CoreV1().Pods(ns).Create(...), Pods(ns),
// CoreV1() and cs, following local variables defined once.
func (c *checker) receiverChain(s *site) []ast.Expr {
	if s.expr == nil {
		return nil
	}
	sel, ok := ast.Unparen(s.expr.Fun).(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	var chain []ast.Expr
	e := sel.X
	for range 16 {
		e = ast.Unparen(e)
		chain = append(chain, e)
		switch x := e.(type) {
		case *ast.CallExpr:
			sel, ok := ast.Unparen(x.Fun).(*ast.SelectorExpr)
			if !ok {
				return chain
			}
			if _, isPkg := c.pass.TypesInfo.Uses[identOf(sel.X)].(*types.PkgName); isPkg {
				return chain // pkg.NewForConfigOrDie(cfg): the chain's start
			}
			e = sel.X
		case *ast.Ident:
			v := c.hold.localVar(x)
			if v == nil || c.hold.multi[v] || c.hold.defs[v] == nil {
				return chain
			}
			e = c.hold.defs[v]
		default:
			return chain
		}
	}
	return chain
}

func identOf(e ast.Expr) *ast.Ident {
	id, _ := ast.Unparen(e).(*ast.Ident)
	return id
}

// requestHasTimeout reports whether a rest.Request's chain sets
// Timeout: c.Get().Timeout(10*time.Second).Do(ctx). For a watch, list
// options given to VersionedParams count as for a typed Watch: options
// from elsewhere are assumed to set TimeoutSeconds.
func (c *checker) requestHasTimeout(s *site, watch bool) bool {
	for _, e := range c.receiverChain(s) {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			continue
		}
		f, _ := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
		if isMethod(f, restPkg, "Request", "Timeout") {
			return true
		}
		if watch && isMethod(f, restPkg, "Request", "VersionedParams", "SpecificallyVersionedParams") && len(call.Args) > 0 &&
			c.optionsHaveTimeout(call.Args[0]) {
			return true
		}
	}
	return false
}

// clientHasTimeout reports whether s's client was made from a config
// with Timeout set, in the package or by a function of the module that
// returns it: client-go then bounds every request.
func (c *checker) clientHasTimeout(s *site) bool {
	chain := c.receiverChain(s)
	if len(chain) == 0 {
		return false
	}
	bs := c.sum.judge(chain[len(chain)-1], kubeClientT)
	for _, b := range bs {
		if b.kind != timed {
			return false
		}
	}
	return len(bs) > 0
}
