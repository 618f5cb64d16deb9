package wiretrace

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigilhq/vigil/diag/inflight"
)

// Credentials the fake API server hands out or receives; none may appear
// in anything the tracer keeps, serves or observes.
const (
	createdSecret  = "created-pa55w0rd-value"
	mintedToken    = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtaW50ZWQifQ.bWludGVkLXNpZ25hdHVyZQ"
	configMapToken = "cm-t0ken-9f8e7d6c5b4a"
)

// fakeAPIServer speaks enough of the Kubernetes API for a clientset: a
// Secret to get, list and watch, secret creation echoed back, a ConfigMap
// and a service account token request. It insists on the bearer token.
func fakeAPIServer(t *testing.T) *httptest.Server {
	t.Helper()
	secret := `{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","namespace":"ns","resourceVersion":"7"},"data":{"password":"` + testSecretB64 + `"},"type":"Opaque"}`
	item := `{"metadata":{"name":"s","namespace":"ns","resourceVersion":"7"},"data":{"password":"` + testSecretB64 + `"},"type":"Opaque"}`
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/namespaces/ns/secrets/s", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, http.StatusOK, secret)
	})
	mux.HandleFunc("GET /api/v1/namespaces/ns/secrets", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "" {
			writeBody(w, http.StatusOK, `{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[`+item+`]}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"type":"ADDED","object":`+secret+"}\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /api/v1/namespaces/ns/secrets", func(w http.ResponseWriter, r *http.Request) {
		// Echo in the encoding the client chose (client-go may send
		// protobuf).
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusCreated)
		w.Write(b)
	})
	mux.HandleFunc("POST /api/v1/namespaces/ns/configmaps", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusCreated)
		w.Write(b)
	})
	mux.HandleFunc("GET /api/v1/namespaces/ns/configmaps/cm", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, http.StatusOK, `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm","namespace":"ns"},"data":{"greeting":"hello","token":"`+configMapToken+`"}}`)
	})
	mux.HandleFunc("POST /api/v1/namespaces/ns/serviceaccounts/sa/token", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, http.StatusCreated, `{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","metadata":{"name":"sa"},"spec":{"audiences":["vigil"]},"status":{"token":"`+mintedToken+`","expirationTimestamp":"2030-01-01T00:00:00Z"}}`)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			writeBody(w, http.StatusUnauthorized, `{"kind":"Status","status":"Failure","code":401}`)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeBody(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// TestKubernetesClientLeaksNoCredentials drives a real clientset through
// the tracer in every mode and searches everything the tracer produced
// for the bearer token and the secret values.
func TestKubernetesClientLeaksNoCredentials(t *testing.T) {
	srv := fakeAPIServer(t)
	leaks := []string{testToken, testSecretB64, testSecretPlain, createdSecret, mintedToken, configMapToken}

	for _, mode := range []Mode{Off, Summary, Headers, Bodies} {
		t.Run(mode.String(), func(t *testing.T) {
			reg := inflight.New(inflight.Options{})
			var mu sync.Mutex
			var observed []Exchange
			tr := New(Options{Mode: mode, Registry: reg, Observe: func(x Exchange) {
				mu.Lock()
				observed = append(observed, x)
				mu.Unlock()
			}})
			cs, err := kubernetes.NewForConfig(&rest.Config{
				Host:        srv.URL,
				BearerToken: testToken,
				Timeout:     10 * time.Second,
				WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
					return tr.Wrap(rt, WithName("kube"), WithClientTimeout(10*time.Second))
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := testCtx(t)

			s, err := cs.CoreV1().Secrets("ns").Get(ctx, "s", metav1.GetOptions{})
			if err != nil || string(s.Data["password"]) != testSecretPlain {
				t.Fatalf("get secret: %v %v", s, err)
			}
			if l, err := cs.CoreV1().Secrets("ns").List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) != 1 {
				t.Fatalf("list secrets: %v", err)
			}
			created, err := cs.CoreV1().Secrets("ns").Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "new"},
				StringData: map[string]string{"password": createdSecret},
			}, metav1.CreateOptions{})
			if err != nil || created.StringData["password"] != createdSecret {
				t.Fatalf("create secret: %v %v", created, err)
			}
			w, err := cs.CoreV1().Secrets("ns").Watch(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("watch secrets: %v", err)
			}
			select {
			case ev := <-w.ResultChan():
				if s, ok := ev.Object.(*corev1.Secret); !ok || string(s.Data["password"]) != testSecretPlain {
					t.Fatalf("watch event %+v", ev)
				}
			case <-ctx.Done():
				t.Fatal("no watch event")
			}
			w.Stop()
			cm, err := cs.CoreV1().ConfigMaps("ns").Get(ctx, "cm", metav1.GetOptions{})
			if err != nil || cm.Data["token"] != configMapToken {
				t.Fatalf("get configmap: %v %v", cm, err)
			}
			if _, err := cs.CoreV1().ConfigMaps("ns").Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "made"},
				Data:       map[string]string{"greeting": "hi there", "token": configMapToken},
			}, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create configmap: %v", err)
			}
			tok, err := cs.CoreV1().ServiceAccounts("ns").CreateToken(ctx, "sa", &authenticationv1.TokenRequest{
				Spec: authenticationv1.TokenRequestSpec{Audiences: []string{"vigil"}},
			}, metav1.CreateOptions{})
			if err != nil || tok.Status.Token != mintedToken {
				t.Fatalf("create token: %v %v", tok, err)
			}

			waitFor(t, "the watch to end", func() bool { return len(reg.Snapshot()) == 0 })

			entries := tr.Entries(0, 0)
			rec := httptest.NewRecorder()
			tr.EntriesHandler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/wire/entries", nil))
			mu.Lock()
			obs, err := json.Marshal(observed)
			n := len(observed)
			mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			kept, err := json.Marshal(entries)
			if err != nil {
				t.Fatal(err)
			}
			for name, dump := range map[string]string{"Entries": string(kept), "EntriesHandler": rec.Body.String(), "Observe": string(obs)} {
				for _, leak := range leaks {
					if strings.Contains(dump, leak) {
						t.Errorf("%s output in %s mode contains %q:\n%s", name, mode, leak, dump)
					}
				}
			}

			const calls = 7
			if n != calls {
				t.Errorf("Observe saw %d exchanges, want %d", n, calls)
			}
			if mode == Off {
				if len(entries) != 0 {
					t.Errorf("Off kept %d entries", len(entries))
				}
				return
			}
			if len(entries) != calls {
				t.Fatalf("kept %d entries, want %d", len(entries), calls)
			}
			byVerb := map[string]Exchange{}
			for _, x := range entries {
				byVerb[x.Verb+" "+x.Resource+"/"+x.Subresource] = x
			}
			watch := byVerb["watch secrets/"]
			if !watch.Streaming || watch.Namespace != "ns" || watch.Client != "kube" {
				t.Errorf("watch exchange %+v", watch)
			}
			if mode < Headers {
				return
			}
			if got := byVerb["get secrets/"].ReqHeaders.Get("Authorization"); got != redacted {
				t.Errorf("Authorization kept as %q, want %s", got, redacted)
			}
			if mode < Bodies {
				return
			}
			for _, key := range []string{"get secrets/", "list secrets/", "create secrets/"} {
				x := byVerb[key]
				if x.RespBody != secretWithheld || (key == "create secrets/" && x.ReqBody != secretWithheld) {
					t.Errorf("%s bodies %q / %q, want %q", key, x.ReqBody, x.RespBody, secretWithheld)
				}
			}
			if x := byVerb["create serviceaccounts/token"]; x.RespBody != credentialWithheld {
				t.Errorf("token request body %q, want %q", x.RespBody, credentialWithheld)
			}
			if x := byVerb["get configmaps/"]; !strings.Contains(x.RespBody, `"greeting":"hello"`) || !strings.Contains(x.RespBody, `"token":"REDACTED"`) {
				t.Errorf("configmap body %q: want the greeting kept and the token redacted", x.RespBody)
			}
			// client-go sends built-in types as protobuf; Bodies mode
			// shows them decoded.
			if x := byVerb["create configmaps/"]; !strings.Contains(x.ReqBody, `"greeting":"hi there"`) || !strings.Contains(x.ReqBody, `"token":"REDACTED"`) ||
				!strings.Contains(x.ReqHeaders.Get("Content-Type"), "protobuf") {
				t.Errorf("configmap create: %s body %q: want it decoded from protobuf, greeting kept, token redacted", x.ReqHeaders.Get("Content-Type"), x.ReqBody)
			}
		})
	}
}
