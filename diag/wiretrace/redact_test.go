package wiretrace

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

// A token and secret values shaped like real ones; no test output may
// contain them.
const (
	testToken       = "eyJhbGciOiJSUzI1NiIsImtpZCI6InZpZ2lsLXRlc3QifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2k6dmlnaWwifQ.Zm9vYmFyLXNpZ25hdHVyZQ"
	testSecretPlain = "s3cr3t-hunter2-value"
	testSecretB64   = "czNjcjN0LWh1bnRlcjItdmFsdWU=" // base64 of testSecretPlain
)

func TestRedactURL(t *testing.T) {
	r := newRedactor()
	tests := []struct {
		name    string
		url     string
		want    string
		mustNot []string
	}{
		{"plain", "https://10.0.0.1:6443/api/v1/pods?limit=500", "https://10.0.0.1:6443/api/v1/pods?limit=500", nil},
		{"userinfo", "https://admin:hunter2@10.0.0.1/api", "https://admin:REDACTED@10.0.0.1/api", []string{"hunter2"}},
		{"token as user", "https://ghp_tok3n@10.0.0.1/api", "https://REDACTED@10.0.0.1/api", []string{"ghp_tok3n"}},
		{"credential params keep order",
			"https://h/x?watch=true&access_token=AAA1&token=BBB2&password=CCC3&secret=DDD4&labelSelector=a%3Db",
			"https://h/x?watch=true&access_token=REDACTED&token=REDACTED&password=REDACTED&secret=REDACTED&labelSelector=a%3Db",
			[]string{"AAA1", "BBB2", "CCC3", "DDD4"}},
		{"api key and escaped name", "https://h/x?api%2Dkey=EEE5&X-Amz-Signature=FFF6", "https://h/x?api%2Dkey=REDACTED&X-Amz-Signature=REDACTED", []string{"EEE5", "FFF6"}},
		{"token in fragment", "https://h/cb#access_token=GGG7", "https://h/cb#access_token=REDACTED", []string{"GGG7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got := r.url(u)
			if got != tt.want {
				t.Errorf("url(%s) = %s, want %s", tt.url, got, tt.want)
			}
			for _, s := range tt.mustNot {
				if strings.Contains(got, s) {
					t.Errorf("url(%s) = %s: still contains %q", tt.url, got, s)
				}
			}
			if u.String() != tt.url && !strings.Contains(tt.url, "%2D") {
				t.Errorf("url() modified its argument: %s", u)
			}
		})
	}
}

func TestRedactHeader(t *testing.T) {
	r := newRedactor()
	in := http.Header{
		"Authorization":       {"Bearer " + testToken},
		"Proxy-Authorization": {"Basic dXNlcjpwYXNz"},
		"Cookie":              {"session=abc"},
		"Set-Cookie":          {"session=abc; HttpOnly", "other=def"},
		"X-Auth-Token":        {"tok1"},
		"X-Vault-Token":       {"tok2"},
		"X-Client-Secret":     {"tok3"},
		"X-Db-Password":       {"tok4"},
		"X-Api-Key":           {"tok5"},
		"X-Debug":             {"forwarded Bearer " + testToken},
		"Location":            {"https://h/next?token=tok6"},
		"Content-Type":        {"application/json"},
	}
	want := http.Header{
		"Authorization":       {redacted},
		"Proxy-Authorization": {redacted},
		"Cookie":              {redacted},
		"Set-Cookie":          {redacted, redacted},
		"X-Auth-Token":        {redacted},
		"X-Vault-Token":       {redacted},
		"X-Client-Secret":     {redacted},
		"X-Db-Password":       {redacted},
		"X-Api-Key":           {redacted},
		"X-Debug":             {"forwarded Bearer REDACTED"},
		"Location":            {"https://h/next?token=REDACTED"},
		"Content-Type":        {"application/json"},
	}
	got := r.header(in)
	for k, v := range want {
		if strings.Join(got[k], "|") != strings.Join(v, "|") {
			t.Errorf("header %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d headers, want %d", len(got), len(want))
	}
	if in.Get("Authorization") != "Bearer "+testToken {
		t.Error("header() modified its argument")
	}
}

func TestRedactText(t *testing.T) {
	r := newRedactor()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"bearer", "401: Bearer " + testToken + " rejected", "401: Bearer REDACTED rejected"},
		{"bearer lower case tabs", "authorization: bearer\t" + testToken, "authorization: bearer\tREDACTED"},
		{"query in error", `Get "https://h/x?token=abc&a=1": EOF`, `Get "https://h/x?token=REDACTED&a=1": EOF`},
		{"form body", "grant_type=refresh_token&refresh_token=r1&client_secret=c1", "grant_type=refresh_token&refresh_token=REDACTED&client_secret=REDACTED"},
		{"flag", "--kubelet-token=xyz --v=2", "--kubelet-token=REDACTED --v=2"},
		{"userinfo", "dial https://u:p@host:1/x failed", "dial https://u:REDACTED@host:1/x failed"},
		{"nothing", "connection refused", "connection refused"},
		{"bearer word alone", `{"type":"bearer"}`, `{"type":"bearer"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.text(tt.in); got != tt.want {
				t.Errorf("text(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactError(t *testing.T) {
	r := newRedactor()
	u, err := url.Parse("https://u:pw@h/x?access_token=AAA1")
	if err != nil {
		t.Fatal(err)
	}
	e := &url.Error{Op: "Get", URL: u.String(), Err: errors.New("server said Bearer " + testToken)}
	got := r.error(e, u, r.url(u))
	for _, s := range []string{"AAA1", "pw", testToken} {
		if strings.Contains(got, s) {
			t.Errorf("error text %q contains %q", got, s)
		}
	}
	if !strings.Contains(got, "https://u:REDACTED@h/x?access_token=REDACTED") {
		t.Errorf("error text %q lacks the redacted URL", got)
	}
}

func TestRedactBody(t *testing.T) {
	r := newRedactor()
	secret := `{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","namespace":"ns"},"data":{"password":"` + testSecretB64 + `"},"stringData":{"plain":"` + testSecretPlain + `"},"type":"Opaque"}`
	tests := []struct {
		name     string
		body     string
		total    int64 // 0 means len(body)
		ctype    string
		want     string
		contains []string
	}{
		{"secret keeps keys, not values", secret, 0, "application/json",
			`{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","namespace":"ns"},"data":{"password":"REDACTED"},"stringData":{"plain":"REDACTED"},"type":"Opaque"}`, nil},
		{"secret list items carry no kind", `{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a"},"data":{"k":"` + testSecretB64 + `"}}]}`, 0, "",
			`{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a"},"data":{"k":"REDACTED"}}]}`, nil},
		{"generic list with a secret", `{"kind":"List","items":[{"kind":"ConfigMap","data":{"a":"b"}},{"kind":"Secret","data":{"k":"` + testSecretB64 + `"}}]}`, 0, "",
			`{"kind":"List","items":[{"kind":"ConfigMap","data":{"a":"b"}},{"kind":"Secret","data":{"k":"REDACTED"}}]}`, nil},
		{"watch events", `{"type":"ADDED","object":` + secret + "}\n" + `{"type":"DELETED","object":{"kind":"Secret","data":"` + testSecretB64 + `"}}`, 0, "",
			"", []string{`"type":"ADDED"`, `"data":{"password":"REDACTED"}`, `{"type":"DELETED","object":{"kind":"Secret","data":"REDACTED"}}`}},
		{"credential keys anywhere", `{"users":[{"user":{"token":"` + testToken + `","client-key-data":"LS0t","client-certificate-data":"LS0u"}}],"status":{"token":{"nested":"x"}},"spec":{"automountServiceAccountToken":true,"adminPassword":"` + testSecretPlain + `"}}`, 0, "",
			`{"users":[{"user":{"token":"REDACTED","client-key-data":"REDACTED","client-certificate-data":"REDACTED"}}],"status":{"token":"REDACTED"},"spec":{"automountServiceAccountToken":true,"adminPassword":"REDACTED"}}`, nil},
		{"configmap kept, bearer in a string redacted", `{"kind":"ConfigMap","data":{"greeting":"hello","curl":"curl -H 'Authorization: Bearer ` + testToken + `'"}}`, 0, "",
			`{"kind":"ConfigMap","data":{"greeting":"hello","curl":"curl -H 'Authorization: Bearer REDACTED'"}}`, nil},
		{"escapes survive", `{"a":"line\n\"quoted\" \u0001 <b>"}`, 0, "", `{"a":"line\n\"quoted\" \u0001 <b>"}`, nil},
		{"numbers as written", `{"n":1.50,"big":12345678901234567890,"b":false,"z":null}`, 0, "", `{"n":1.50,"big":12345678901234567890,"b":false,"z":null}`, nil},
		{"truncated secret withheld whole", secret[:60], 500, "application/json", secretWithheld + "…[truncated 440 bytes]", nil},
		{"truncated credential key", `{"kind":"Config","users":[{"token":"` + testToken[:20], 300, "", "",
			[]string{`"token":"REDACTED"`, "…[truncated "}},
		{"truncated keeps the rest", `{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"main","image":"alpine"`, 900, "", "",
			[]string{`"image":"alpine"`, "…[truncated "}},
		{"not JSON though it looks it", `{oops Bearer ` + testToken, 0, "", `{oops Bearer REDACTED`, nil},
		{"protobuf that does not decode", "k8s\x00\x0a\x02v1\x12\x06Secret" + testSecretPlain, 0, "application/vnd.kubernetes.protobuf",
			"", []string{"[binary body: ", " bytes, application/vnd.kubernetes.protobuf]"}},
		{"plain text", "token=" + testSecretPlain + " ok", 0, "text/plain", "token=REDACTED ok", nil},
		{"cut inside a rune", "héllo", 9, "text/plain", "h…[truncated 7 bytes]", nil},
		{"empty", "", 0, "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := tt.total
			if total == 0 {
				total = int64(len(tt.body))
			}
			body := tt.body
			if tt.name == "cut inside a rune" {
				body = body[:2] // "h" and half of "é"
			}
			got := r.body([]byte(body), total, tt.ctype)
			if tt.want != "" && got != tt.want {
				t.Errorf("body()\n got %s\nwant %s", got, tt.want)
			}
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("body() = %s\nwant it to contain %s", got, s)
				}
			}
			for _, s := range []string{testToken, testToken[:20], testSecretB64, testSecretPlain} {
				if strings.Contains(got, s) {
					t.Errorf("body() = %s\nleaks %q", got, s)
				}
			}
		})
	}
}

// TestRedactEnvValues: every environment variable's value is withheld by
// its position in the pod spec, whatever its name (DB_URL, GREETING), in
// every container list, in a truncated body, in the last-applied
// annotation, in a typed pod sent as protobuf, and in a task spec; the
// names stay (issue 16).
func TestRedactEnvValues(t *testing.T) {
	r := newRedactor()
	const s1, s2, s3, s4 = "pw-in-env-7f3a", "dsn-user:hunter9@db", "plain-greeting-9c1d", "init-secret-5e2b"
	pod := `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","annotations":{"note":"x"}},"spec":{` +
		`"initContainers":[{"name":"init","env":[{"name":"INIT_TOKEN_X","value":"` + s4 + `"}]}],` +
		`"containers":[{"name":"main","image":"alpine","env":[{"name":"DB_URL","value":"` + s2 + `"},` +
		`{"name":"GREETING","value":"` + s3 + `"},{"name":"FROM_SECRET","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}]}],` +
		`"ephemeralContainers":[{"name":"debug","env":[{"name":"X","value":"` + s1 + `"}]}]}}`
	lastApplied := `{"kind":"Pod","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + strconv.Quote(pod) + `}}}`
	spec := `{"task":{"spec":{"Command":["sh"],"Env":[{"Name":"API_KEY_2","Value":"` + s1 + `"}]}}}`
	tests := []struct {
		name     string
		body     string
		total    int64
		contains []string
	}{
		{"pod", pod, 0, []string{`{"name":"DB_URL","value":"REDACTED"}`, `{"name":"GREETING","value":"REDACTED"}`,
			`{"name":"INIT_TOKEN_X","value":"REDACTED"}`, `{"name":"X","value":"REDACTED"}`,
			`"valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}`, `"image":"alpine"`}},
		{"watch event", `{"type":"MODIFIED","object":` + pod + "}", 0, []string{`"value":"REDACTED"`}},
		{"last-applied annotation", lastApplied, 0, []string{`\"name\":\"GREETING\",\"value\":\"REDACTED\"`}},
		{"task spec", spec, 0, []string{`{"Name":"API_KEY_2","Value":"REDACTED"}`}},
		{"truncated after a value", pod[:strings.Index(pod, s3)+len(s3)+2], 2000,
			[]string{`{"name":"DB_URL","value":"REDACTED"}`, `{"name":"GREETING","value":"REDACTED"}`, "…[truncated "}},
		{"truncated inside a value", pod[:strings.Index(pod, s3)+4], 2000,
			[]string{`{"name":"GREETING","value":"REDACTED"`, "…[truncated "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := tt.total
			if total == 0 {
				total = int64(len(tt.body))
			}
			got := r.body([]byte(tt.body), total, "application/json")
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("body() = %s\nwant it to contain %s", got, s)
				}
			}
			for _, s := range []string{s1, s2, s3, s4, s3[:4]} {
				if strings.Contains(got, s) {
					t.Errorf("body() = %s\nleaks %q", got, s)
				}
			}
		})
	}
	t.Run("protobuf pod", func(t *testing.T) {
		var b bytes.Buffer
		err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(&corev1.Pod{
			TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "main", Image: "alpine", Env: []corev1.EnvVar{{Name: "GREETING", Value: s3}},
			}}},
		}, &b)
		if err != nil {
			t.Fatal(err)
		}
		got := r.body(b.Bytes(), int64(b.Len()), "application/vnd.kubernetes.protobuf")
		if !strings.Contains(got, `{"name":"GREETING","value":"REDACTED"}`) || strings.Contains(got, s3) {
			t.Errorf("body() = %s\nwant the env value redacted, the name kept", got)
		}
	})
}

// TestRedactEnvTextKeepsOthers: the tolerant scan touches only values
// under env; other "value" keys and the layout stay.
func TestRedactEnvTextKeepsOthers(t *testing.T) {
	in := `{"env" : [ {"name":"A","value":"x\"y"}, {"value": "z"} ], "tolerations":[{"key":"k","value":"keep"}],"b":{"env":"s","value":"keep2"`
	want := `{"env" : [ {"name":"A","value":"REDACTED"}, {"value": "REDACTED"} ], "tolerations":[{"key":"k","value":"keep"}],"b":{"env":"s","value":"keep2"`
	if got := redactEnvText(in); got != want {
		t.Errorf("redactEnvText\n got %s\nwant %s", got, want)
	}
}

func TestRedactProtobufBody(t *testing.T) {
	r := newRedactor()
	enc := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	encode := func(obj runtime.Object) []byte {
		var b bytes.Buffer
		if err := enc.Encode(obj, &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	pod := encode(&corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ci"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: "alpine", Args: []string{"--header=Authorization: Bearer " + testToken},
		}}},
	})
	secret := encode(&corev1.Secret{
		TypeMeta:   metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Data:       map[string][]byte{"password": []byte(testSecretPlain)},
	})
	const ct = "application/vnd.kubernetes.protobuf"
	tests := []struct {
		name     string
		body     []byte
		total    int64
		contains []string
	}{
		{"pod decoded as JSON", pod, int64(len(pod)),
			[]string{`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"ci"`, `"image":"alpine"`, "Bearer REDACTED"}},
		{"secret decoded and redacted", secret, int64(len(secret)), []string{`"data":{"password":"REDACTED"}`}},
		{"cut short", pod[:40], int64(len(pod)), []string{"[protobuf body: ", "not decoded]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.body(tt.body, tt.total, ct)
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("body() = %s\nwant it to contain %s", got, s)
				}
			}
			for _, s := range []string{testToken, testSecretB64, testSecretPlain} {
				if strings.Contains(got, s) {
					t.Errorf("body() = %s\nleaks %q", got, s)
				}
			}
		})
	}
}

func TestWithheldBody(t *testing.T) {
	tests := []struct {
		name string
		k    kubeCall
		want string
	}{
		{"secret get", kubeCall{Verb: "get", Resource: "secrets", Name: "s"}, secretWithheld},
		{"secret watch", kubeCall{Verb: "watch", Resource: "secrets"}, secretWithheld},
		{"token request", kubeCall{Verb: "create", Resource: "serviceaccounts", Subresource: "token"}, credentialWithheld},
		{"token review", kubeCall{Verb: "create", Group: "authentication.k8s.io", Resource: "tokenreviews"}, credentialWithheld},
		{"service account", kubeCall{Verb: "get", Resource: "serviceaccounts"}, ""},
		{"pods", kubeCall{Verb: "create", Resource: "pods"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withheldBody(tt.k); got != tt.want {
				t.Errorf("withheldBody(%+v) = %q, want %q", tt.k, got, tt.want)
			}
		})
	}
}

// FuzzRedactBody checks that body rendering never panics and that a token
// planted after a bearer prefix never survives.
func FuzzRedactBody(f *testing.F) {
	f.Add([]byte(`{"kind":"Secret","data":{"a":"b"}}`), 0)
	f.Add([]byte(`{"a":[1,2,{"token":"x"}],"b":"Bearer q"}`), 10)
	f.Add([]byte("plain text"), 3)
	f.Add([]byte(`{"kind":"Secret","da`), 0)
	r := newRedactor()
	f.Fuzz(func(t *testing.T, body []byte, extra int) {
		if extra < 0 {
			extra = -extra
		}
		planted := append(append([]byte{}, body...), []byte(" Bearer PLANTEDTOKEN ")...)
		got := r.body(planted, int64(len(planted)+extra%1000), "")
		if strings.Contains(got, "PLANTEDTOKEN") {
			t.Errorf("body(%q) = %q: planted token survived", planted, got)
		}
	})
}

// FuzzParseJSON holds the hand-written parser to encoding/json: valid JSON
// parses, and what it writes back is valid JSON with the same meaning.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-2.5e3,true,false,null,"x\"y\u00e9"],"b":{}}`, `[]`, `"s"`, `0`, `-0.1E+2`,
		`{"kind":"Secret","data":{"k":"v"}}`, `01`, `1.`, `{"a" 1}`, `[1,]`, `{"a":1}{"b":2}`, "\"\\ud800\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return
		}
		values, err := parseJSON(b)
		if json.Valid(b) && (err != nil || len(values) != 1) {
			t.Fatalf("parseJSON(%q) = %d values, %v; encoding/json says it is valid", b, len(values), err)
		}
		if err != nil {
			return
		}
		for _, v := range values {
			var out strings.Builder
			v.write(&out)
			if !json.Valid([]byte(out.String())) {
				t.Fatalf("parseJSON(%q) wrote invalid JSON %q", b, out.String())
			}
			if len(values) != 1 {
				continue
			}
			var want, got any
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("parseJSON accepted %q, which encoding/json rejects: %v", b, err)
			}
			if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("parseJSON(%q) wrote %q: %v, want %v", b, out.String(), got, want)
			}
		}
	})
}
