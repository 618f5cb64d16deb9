// Package wiretrace records the HTTP exchanges a process makes, for
// debugging it in production: what the Kubernetes client, the Pyroscope
// uploader or any other client sent, what came back, how long each phase
// took, and which calls are still waiting.
//
// # Wiring
//
// One Tracer serves the whole process. Wrap every outbound transport with
// it, naming the client and giving the client's own timeout:
//
//	reg := inflight.New(inflight.Options{})
//	tr := wiretrace.New(wiretrace.Options{Mode: wiretrace.Summary, Registry: reg, Observe: metrics.observe})
//
//	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { // a *rest.Config
//		return tr.Wrap(rt, wiretrace.WithName("kube"), wiretrace.WithClientTimeout(cfg.Timeout))
//	}
//	pyroscope := &http.Client{Timeout: 10 * time.Second}
//	pyroscope.Transport = tr.Wrap(nil, wiretrace.WithName("pyroscope"), wiretrace.WithClientTimeout(pyroscope.Timeout))
//
// client-go puts its authentication wrappers outside WrapTransport, so the
// tracer sees the Authorization header it sends, and redacts it.
//
// # Modes
//
// The mode says what the ring keeps; it can be switched at any time
// (SetMode, or PUT on ModeHandler) and applies to requests that start
// afterwards:
//
//	off      nothing
//	summary  one Exchange per request: method, redacted URL, Kubernetes verb,
//	         resource, namespace and name, status, error, duration, byte
//	         counts, DNS/connect/TLS/first-byte timings. No headers are
//	         copied and no body is captured; this is the daemon's default.
//	headers  summary plus redacted request and response headers
//	bodies   headers plus the first BodyLimit bytes of each body, redacted
//
// In every mode, Off included, each request is registered in the
// inflight.Registry while it runs, Options.Observe is called when it ends
// (the daemon feeds its request latency histogram, by verb, resource and
// code, from it) and Stats count it.
//
// # When an exchange ends
//
// An exchange is recorded, and leaves the in-flight registry, when the
// caller has read the response body to its end, reading it failed, or the
// caller closed it, whichever comes first; so its Duration includes the
// body, and a caller stuck reading a body that never ends is visible in
// flight (as is one that never closes a body it did not finish: that
// leaks a connection too). A transport error, or a response without a
// body (204, HEAD), is recorded at once. Bodies are never read ahead of
// the caller or the transport, nor buffered whole. Response bytes are
// counted, and in Bodies mode the first BodyLimit of them copied, as the
// caller reads them. A request body of known length (client-go's always
// is) is handed to the transport untouched, because net/http sends an
// in-memory body in the same write as the headers only if it can see it
// is one; its size is the declared length, and Bodies mode copies its
// head from a second copy made by GetBody. Any other request body is
// counted and copied as the transport reads it, and when the transport
// resends it through GetBody (a retry on a new connection) the count and
// copy start over.
//
// Streams are the exception. A watch (?watch=true or the legacy
// /watch/ prefix), a followed log (?follow=true), any response whose
// Content-Type says stream=watch or text/event-stream, and a protocol
// upgrade (101) are recorded, with Streaming set, as soon as their
// headers arrive, and leave the in-flight registry then: a watch that
// has been open for ten minutes is working, not hung. Their Duration is
// the time to the headers, their RespBytes and RespBody stay empty, and
// their body is handed to the caller untouched. A watch that fails (a 410
// Gone, a 403) is an ordinary exchange, error body included.
//
// A request's in-flight entry (inflight.Call) has Kind "http", the
// host:port as Target, "METHOD /path" as Op (no query), and "verb
// resource" as Detail for Kubernetes calls ("create pods", "get pods/log";
// the client name for others). Its deadline is the earlier of the request
// context's deadline and the start plus WithClientTimeout: http.Client and
// client-go may enforce a timeout outside the request context, and such a
// call should not be reported as having NO DEADLINE.
//
// # Redaction
//
// Redaction happens in every mode, before anything reaches the ring,
// Observe or the handlers:
//
//   - URLs lose the password of their userinfo (user:REDACTED@), or the
//     whole of a userinfo without one (a token: REDACTED@), and the values
//     of query parameters whose names contain token, secret, password,
//     passwd, api-key, apikey or api_key, or are key, pwd, sig or signature
//     (or end in -signature), become REDACTED. These rules, and those for
//     text below, are package redact's, which the rest of Vigil uses too.
//   - Headers Authorization, Proxy-Authorization, Cookie, Set-Cookie,
//     X-Auth-Token and any whose name would make it a credential query
//     parameter keep their name with the value REDACTED.
//   - In every other text kept (header values, error strings, JSON string
//     values, text bodies), a bearer token ("Bearer xxx", any case),
//     key=value pairs such as token=xxx, --password=xxx or libpq's
//     password='x y', and userinfo in URLs are redacted. An error that quotes the request
//     URL quotes the redacted one.
//   - No body of a request to the secrets resource is kept at all, in any
//     group or verb, lists and watches included: both read
//     "[redacted: Kubernetes Secret]". The same goes for the bodies of
//     serviceaccounts/token and tokenreviews ("[redacted: Kubernetes
//     credential]").
//   - Other JSON bodies (and watch-style streams of JSON values) are
//     parsed and re-emitted compact, keys in their original order, strings
//     as written, with the values under data and stringData of any object
//     of kind Secret (and of the items of a SecretList) replaced, keys
//     kept, and the value of any key named token, password, passwd,
//     secret, client-key-data, client-certificate-data, access_token,
//     refresh_token, id_token, client_secret, api_key or private_key
//     replaced; a string value whose key merely ends like one
//     ("adminPassword", "bootstrapToken") is replaced too. The value of
//     every environment variable is replaced by its position, whatever its
//     name: "value" in each element of any "env" array (a pod's
//     containers, initContainers and ephemeralContainers); names and
//     valueFrom stay. A string that holds a JSON document (the
//     last-applied-configuration annotation) is redacted the same way. A
//     JSON body cut short by BodyLimit cannot be parsed: it is withheld
//     whole if it names kind Secret, and otherwise redacted key by key,
//     env values by a scan that tracks their position.
//   - client-go's typed clients speak protobuf to the API server. A
//     Kubernetes protobuf body captured whole is decoded with client-go's
//     scheme and shown as JSON, redacted as above; one longer than
//     BodyLimit is shown as "[protobuf body: N bytes, more than BodyLimit,
//     so not decoded]". Other binary bodies (CBOR, compressed, unknown
//     types) are shown only as "[binary body: N bytes, CONTENT-TYPE]".
//
// A body longer than BodyLimit ends with "…[truncated N bytes]".
//
// # The ring
//
// Kept exchanges go into a ring of Capacity entries; the oldest is
// overwritten when it is full. Kept exchanges are numbered 1, 2, 3... in
// the order they finished (Seq), so a reader that asks for the entries
// after the last Seq it saw gets each exchange once and learns how many
// it missed. Wait blocks until there is something new, which makes a
// long-polling tail cheap.
//
// # HTTP API
//
// The debug server mounts two handlers; the JSON is the contract with
// `vigil diag trace`, which does not import this package.
//
// EntriesHandler, GET ?after=SEQ&max=N&wait=DURATION: the kept exchanges
// with Seq > after (all when after is 0), oldest first, at most max (all
// by default). With wait, a request that finds nothing new waits up to
// min(wait, 30s) for an exchange, or until the client goes away, so the
// server's write timeout must exceed 30s. last_seq is the after to send
// next; missed counts exchanges after `after` that the ring dropped
// before they were read:
//
//	{
//	  "mode": "headers",
//	  "entries": [
//	    {
//	      "seq": 42, "client": "kube", "start": "2025-01-02T15:04:05.123Z",
//	      "method": "POST", "url": "https://10.0.0.1:6443/api/v1/namespaces/ci/pods?fieldManager=vigil",
//	      "host": "10.0.0.1:6443",
//	      "verb": "create", "version": "v1", "resource": "pods", "namespace": "ci",
//	      "status": 201, "duration_ns": 8312000, "req_bytes": 1911, "resp_bytes": 3720,
//	      "phases": {"dns_ns": 0, "connect_ns": 0, "tls_ns": 0, "first_byte_ns": 8100000, "conn_reused": true},
//	      "req_headers": {"Authorization": ["REDACTED"], "Content-Type": ["application/vnd.kubernetes.protobuf"]},
//	      "resp_headers": {"Content-Type": ["application/vnd.kubernetes.protobuf"]}
//	    }
//	  ],
//	  "last_seq": 42,
//	  "missed": 0
//	}
//
// Also in an entry, when they apply: "group", "subresource", "name",
// "error" (transport or body read error), "streaming", and in bodies mode
// "req_body" and "resp_body". Headers appear in headers and bodies mode
// only. Durations are integer nanoseconds. A tail loops on
// ?after=LAST_SEQ&wait=25s.
//
// ModeHandler: GET returns {"mode":"summary"}. PUT or POST with
// ?mode=headers or the body {"mode":"headers"} switches the mode and
// returns {"mode":"headers","previous":"summary"}. An unknown mode is a
// 400 whose error names the valid ones: {"error":"unknown wiretrace mode
// \"verbose\": valid modes are off, summary, headers, bodies"}. Other
// methods are a 405. Bodies mode keeps request bodies, redacted as above:
// mount the handler only on the authenticated debug server.
//
// # Cost
//
// Off costs the in-flight registration (a stack capture and a map
// insert), the URL rendering and a small wrapper on the response body:
// about 2µs and 9 allocations a request. Summary adds an httptrace hook
// set and a ring insert under a mutex, about 1µs and 16 allocations more. Headers
// copies two header maps. Bodies copies up to 2×BodyLimit bytes and, on
// the goroutine that finishes the exchange, parses and redacts them:
// tens of microseconds for a pod, so it is a mode to switch on while
// looking, not to leave on. BenchmarkRoundTrip (loopback server) and
// BenchmarkRoundTripFake (no network) measure each mode:
//
//	go test -run '^$' -bench RoundTrip ./diag/wiretrace/
package wiretrace
