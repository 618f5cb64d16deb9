package wiretrace

import (
	"net/http"
	"net/url"
	"strings"
)

// kubeCall is what a request path says about a Kubernetes API call. The
// zero value means the path is not a resource request (/healthz,
// /version, discovery, another API altogether).
type kubeCall struct {
	Verb        string
	Group       string
	Version     string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
}

// detail is the in-flight Detail for the call: "create pods",
// "get pods/log".
func (k kubeCall) detail() string {
	if k.Verb == "" {
		return ""
	}
	if k.Subresource != "" {
		return k.Verb + " " + k.Resource + "/" + k.Subresource
	}
	return k.Verb + " " + k.Resource
}

// parseKubePath reads a request the way the API server's RequestInfo
// does (k8s.io/apiserver/pkg/endpoints/request), for the paths clients
// send:
//
//	/api/v1/pods                                    list pods
//	/api/v1/namespaces/ns/pods/p                    get pods ns/p
//	/api/v1/namespaces/ns/pods/p/log                get pods/log
//	/apis/apps/v1/namespaces/ns/deployments?watch=1 watch deployments
//	/api/v1/watch/namespaces/ns/pods                watch pods (legacy prefix)
//	/api/v1/namespaces/ns                           get namespaces ns
//	/api/v1/namespaces/ns/status                    get namespaces/status
//
// The verb comes from the method: GET and HEAD are get with a name and
// list without, watch when the query says watch (any value but false or
// 0) or the path has the legacy /watch/ prefix; POST create, PUT update,
// PATCH patch, DELETE delete with a name and deletecollection without.
// rawQuery is only scanned, never parsed into a map, so the common case
// allocates nothing but the strings it returns.
func parseKubePath(method, path, rawQuery string) kubeCall {
	var k kubeCall
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return k
	}
	var prefix string
	prefix, rest, _ = strings.Cut(rest, "/")
	switch prefix {
	case "api":
		k.Version, rest, _ = strings.Cut(rest, "/")
	case "apis":
		k.Group, rest, _ = strings.Cut(rest, "/")
		k.Version, rest, _ = strings.Cut(rest, "/")
	default:
		return kubeCall{}
	}
	rest = strings.TrimSuffix(rest, "/")
	if k.Version == "" || rest == "" {
		// /api, /apis/apps, /api/v1: discovery, not a resource.
		return kubeCall{}
	}
	watch := false
	if after, found := strings.CutPrefix(rest, "watch/"); found {
		watch, rest = true, after
	}

	parts := strings.Split(rest, "/")
	if parts[0] == "namespaces" && len(parts) > 1 {
		k.Namespace = parts[1]
		// /namespaces/ns/status and /namespaces/ns/finalize are
		// subresources of the namespace itself; anything else after the
		// namespace's name is a namespaced resource.
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
		}
	}
	k.Resource = parts[0]
	if len(parts) > 1 {
		k.Name = parts[1]
	}
	if len(parts) > 2 {
		k.Subresource = parts[2]
	}
	if k.Resource == "" {
		return kubeCall{}
	}

	switch method {
	case http.MethodGet, http.MethodHead, "": // net/http sends "" as GET
		switch {
		case watch || watchQuery(rawQuery):
			k.Verb = "watch"
		case k.Name == "":
			k.Verb = "list"
		default:
			k.Verb = "get"
		}
	case http.MethodPost:
		k.Verb = "create"
	case http.MethodPut:
		k.Verb = "update"
	case http.MethodPatch:
		k.Verb = "patch"
	case http.MethodDelete:
		if k.Name == "" {
			k.Verb = "deletecollection"
		} else {
			k.Verb = "delete"
		}
	default:
		k.Verb = strings.ToLower(method)
	}
	return k
}

// watchQuery reports whether the query asks for a watch: a watch
// parameter whose first value is not false or 0, as the API server reads
// it.
func watchQuery(rawQuery string) bool {
	v, ok := queryValue(rawQuery, "watch")
	if !ok {
		return false
	}
	return !strings.EqualFold(v, "false") && v != "0"
}

// queryValue returns the first value of key in rawQuery without building
// a url.Values.
func queryValue(rawQuery, key string) (string, bool) {
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		return v, true
	}
	return "", false
}
