package wiretrace

import (
	"net/url"
	"testing"
)

func TestParseKubePath(t *testing.T) {
	tests := []struct {
		name   string
		method string
		url    string
		want   kubeCall
	}{
		{"core list cluster-wide", "GET", "/api/v1/pods",
			kubeCall{Verb: "list", Version: "v1", Resource: "pods"}},
		{"core list namespaced", "GET", "/api/v1/namespaces/ci/pods?labelSelector=a%3Db&limit=500",
			kubeCall{Verb: "list", Version: "v1", Resource: "pods", Namespace: "ci"}},
		{"core get", "GET", "/api/v1/namespaces/ci/pods/p-1",
			kubeCall{Verb: "get", Version: "v1", Resource: "pods", Namespace: "ci", Name: "p-1"}},
		{"head is get", "HEAD", "/api/v1/namespaces/ci/pods/p-1",
			kubeCall{Verb: "get", Version: "v1", Resource: "pods", Namespace: "ci", Name: "p-1"}},
		{"create", "POST", "/api/v1/namespaces/ci/pods",
			kubeCall{Verb: "create", Version: "v1", Resource: "pods", Namespace: "ci"}},
		{"update", "PUT", "/api/v1/namespaces/ci/configmaps/cm",
			kubeCall{Verb: "update", Version: "v1", Resource: "configmaps", Namespace: "ci", Name: "cm"}},
		{"patch", "PATCH", "/apis/batch/v1/namespaces/ci/jobs/j?fieldManager=vigil",
			kubeCall{Verb: "patch", Group: "batch", Version: "v1", Resource: "jobs", Namespace: "ci", Name: "j"}},
		{"delete", "DELETE", "/api/v1/namespaces/ci/pods/p-1",
			kubeCall{Verb: "delete", Version: "v1", Resource: "pods", Namespace: "ci", Name: "p-1"}},
		{"deletecollection", "DELETE", "/api/v1/namespaces/ci/pods?labelSelector=vigil%2Frun%3D1",
			kubeCall{Verb: "deletecollection", Version: "v1", Resource: "pods", Namespace: "ci"}},
		{"subresource log", "GET", "/api/v1/namespaces/ci/pods/p-1/log?container=main",
			kubeCall{Verb: "get", Version: "v1", Resource: "pods", Subresource: "log", Namespace: "ci", Name: "p-1"}},
		{"subresource status", "PUT", "/api/v1/namespaces/ci/pods/p-1/status",
			kubeCall{Verb: "update", Version: "v1", Resource: "pods", Subresource: "status", Namespace: "ci", Name: "p-1"}},
		{"subresource eviction", "POST", "/api/v1/namespaces/ci/pods/p-1/eviction",
			kubeCall{Verb: "create", Version: "v1", Resource: "pods", Subresource: "eviction", Namespace: "ci", Name: "p-1"}},
		{"group namespaced", "GET", "/apis/apps/v1/namespaces/ci/deployments/d",
			kubeCall{Verb: "get", Group: "apps", Version: "v1", Resource: "deployments", Namespace: "ci", Name: "d"}},
		{"group cluster-scoped", "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
			kubeCall{Verb: "list", Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}},
		{"cluster-scoped get", "GET", "/api/v1/nodes/node-1",
			kubeCall{Verb: "get", Version: "v1", Resource: "nodes", Name: "node-1"}},
		{"cluster-scoped status", "PATCH", "/api/v1/nodes/node-1/status",
			kubeCall{Verb: "patch", Version: "v1", Resource: "nodes", Subresource: "status", Name: "node-1"}},
		{"namespace list", "GET", "/api/v1/namespaces",
			kubeCall{Verb: "list", Version: "v1", Resource: "namespaces"}},
		{"namespace get", "GET", "/api/v1/namespaces/ci",
			kubeCall{Verb: "get", Version: "v1", Resource: "namespaces", Namespace: "ci", Name: "ci"}},
		{"namespace status", "PUT", "/api/v1/namespaces/ci/status",
			kubeCall{Verb: "update", Version: "v1", Resource: "namespaces", Subresource: "status", Namespace: "ci", Name: "ci"}},
		{"namespace finalize", "PUT", "/api/v1/namespaces/ci/finalize",
			kubeCall{Verb: "update", Version: "v1", Resource: "namespaces", Subresource: "finalize", Namespace: "ci", Name: "ci"}},
		{"watch query", "GET", "/api/v1/namespaces/ci/pods?resourceVersion=10&watch=true",
			kubeCall{Verb: "watch", Version: "v1", Resource: "pods", Namespace: "ci"}},
		{"watch query 1", "GET", "/apis/batch/v1/jobs?watch=1",
			kubeCall{Verb: "watch", Group: "batch", Version: "v1", Resource: "jobs"}},
		{"watch query false is list", "GET", "/api/v1/pods?watch=false",
			kubeCall{Verb: "list", Version: "v1", Resource: "pods"}},
		{"watch query 0 is list", "GET", "/api/v1/pods?watch=0",
			kubeCall{Verb: "list", Version: "v1", Resource: "pods"}},
		{"watch single object by fieldSelector", "GET", "/api/v1/namespaces/ci/pods?fieldSelector=metadata.name%3Dp&watch=true",
			kubeCall{Verb: "watch", Version: "v1", Resource: "pods", Namespace: "ci"}},
		{"legacy watch prefix", "GET", "/api/v1/watch/namespaces/ci/pods",
			kubeCall{Verb: "watch", Version: "v1", Resource: "pods", Namespace: "ci"}},
		{"legacy watch prefix named", "GET", "/api/v1/watch/namespaces/ci/pods/p-1",
			kubeCall{Verb: "watch", Version: "v1", Resource: "pods", Namespace: "ci", Name: "p-1"}},
		{"legacy watch prefix group cluster-scoped", "GET", "/apis/apps/v1/watch/deployments",
			kubeCall{Verb: "watch", Group: "apps", Version: "v1", Resource: "deployments"}},
		{"trailing slash", "GET", "/api/v1/pods/",
			kubeCall{Verb: "list", Version: "v1", Resource: "pods"}},
		{"healthz", "GET", "/healthz", kubeCall{}},
		{"livez verbose", "GET", "/livez?verbose", kubeCall{}},
		{"version", "GET", "/version", kubeCall{}},
		{"openapi", "GET", "/openapi/v2", kubeCall{}},
		{"metrics", "GET", "/metrics", kubeCall{}},
		{"discovery api", "GET", "/api", kubeCall{}},
		{"discovery apis", "GET", "/apis", kubeCall{}},
		{"discovery group", "GET", "/apis/apps", kubeCall{}},
		{"discovery core version", "GET", "/api/v1", kubeCall{}},
		{"discovery group version", "GET", "/apis/apps/v1/", kubeCall{}},
		{"pyroscope ingest", "POST", "/ingest?name=vigil", kubeCall{}},
		{"root", "GET", "/", kubeCall{}},
		{"empty", "GET", "", kubeCall{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got := parseKubePath(tt.method, u.Path, u.RawQuery)
			if got != tt.want {
				t.Errorf("parseKubePath(%s %s)\n got %+v\nwant %+v", tt.method, tt.url, got, tt.want)
			}
		})
	}
}

func TestKubeCallDetail(t *testing.T) {
	tests := []struct {
		name string
		k    kubeCall
		want string
	}{
		{"resource", kubeCall{Verb: "create", Resource: "pods"}, "create pods"},
		{"subresource", kubeCall{Verb: "get", Resource: "pods", Subresource: "log"}, "get pods/log"},
		{"not kubernetes", kubeCall{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.k.detail(); got != tt.want {
				t.Errorf("detail() = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzParseKubePath checks the parser never panics on any path and that a
// result with no verb carries nothing else.
func FuzzParseKubePath(f *testing.F) {
	for _, s := range []string{
		"/api/v1/namespaces/ci/pods/p/log", "/apis/apps/v1/watch/namespaces/x/deployments",
		"/api//v1//", "/apis/", "/api/v1/namespaces/", "/api/v1/namespaces//pods", "/api/v1/watch/",
	} {
		f.Add("GET", s, "watch=true")
	}
	f.Fuzz(func(t *testing.T, method, path, rawQuery string) {
		k := parseKubePath(method, path, rawQuery)
		if k.Verb == "" && k != (kubeCall{}) {
			t.Errorf("parseKubePath(%q, %q, %q) = %+v: fields without a verb", method, path, rawQuery, k)
		}
	})
}
