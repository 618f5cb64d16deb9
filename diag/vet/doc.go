// Package vet is diag vet: static checks for calls that can wait forever.
//
// Vigil exists because of a Kubernetes API call with no timeout: the TCP
// connection died without a reset and the scheduler waited on it for
// good. These analyzers (golang.org/x/tools/go/analysis) find that class
// of call before it ships. Each finding says what can hang, why, and the
// fix:
//
//	kube.go:42:2: client-go call Create with context.Background(): a dead
//	connection blocks this call for ~15 minutes; pass a context with a deadline
//
// # Running it
//
// Three ways, all on the same analyzers:
//
//	diag vet ./...                                  # exit status 1 on findings; -o json for scripts
//	go vet -vettool=$(which diag-vet) ./...         # cmd/diag-vet, a multichecker (make build: bin/diag-vet)
//	checker.Analyze(vet.Analyzers(), pkgs, nil)     # as a library
//
// The analyzers require Facts, which exports go/analysis facts (what a
// function returns, what a struct field holds, whether a package opens
// a Kubernetes stream), and httpclient, kubeclient, sqlcontext and
// dialtimeout export their own (which context parameters of a function
// reach a call that waits as long as its context lets it), so the checks
// follow values and contexts across the module's packages. go vet carries facts between packages itself; diag vet loads
// the module's packages that the named ones import, from source, for
// their facts, and reports only on the named ones. Dependencies outside
// the module come from export data and have no facts: what they return
// is unknown, and assumed bounded. go vet analyzes every dependency from
// source, so under it the checks also know what other modules' helpers
// return and which of their context parameters reach a call with no
// deadline, and may report a client from, say, a library's NewClient()
// that diag vet leaves alone.
//
// # The checks
//
// httpclient: outbound HTTP.
//   - http.Get, Head, Post and PostForm: they use http.DefaultClient.
//   - A use of http.DefaultClient: stored in a field, passed on, or called
//     with Get, Head, Post or PostForm (directly or through a local
//     variable). Do on it is judged by its request, like Do on a client
//     without Timeout below. Kept in an unexported field of the package
//     that is only called (x.c.Do(req), x.c.Get(u)), it is judged at
//     those calls instead of where it is stored.
//   - http.NewRequest, whose request has no context, when the request is
//     sent as it is: passed to a Do or RoundTrip method (but Do on a client
//     known to have Timeout, see below), stored, returned by an exported
//     function, or returned by or passed to a function of the package that
//     does one of these with it. A request only inspected (a proxy lookup)
//     or given a context with WithContext is not reported.
//   - An http.Client built in the package (a literal, new(http.Client) or
//     `var c http.Client`) without Timeout, reported at the literal, when
//     Get, Head, Post or PostForm is called on it, or Do with a request
//     built by http.NewRequest or with a background context. The client is
//     followed through local variables, struct fields (keyed and unkeyed
//     literals, s.c = ... anywhere in the package) and package variables,
//     and through the functions and methods of the module that return it
//     (c, err := httpx.New()) or the fields another package of the module
//     fills (api.Client of a constructor's struct); Timeout assigned
//     anywhere in the package to the variable or field holding it counts as
//     set. A finding goes to the literal when it is in the package, else to
//     the call, naming where the client was built. A Do whose request's
//     context is a parameter is a sink for that parameter (see below). A
//     client literal never used this way is not reported: its requests may
//     carry deadlines.
//   - An http.Client without Timeout handed to another library: passed to
//     a function or method of a package outside the standard library and
//     the module (creds.WithHTTPClient(hc)), or stored in a field of one of
//     its structs (&credentials.IAM{Client: hc}, cfg.HTTPClient = hc).
//     Facts do not reach other modules, so vet cannot see whether the
//     library gives each request a deadline; most send on the client as it
//     is. client-go's spdy.NewDialer is known to (its upgrade requests
//     carry no context). Left alone: client-go and controller-runtime (a
//     client for their watches must not have a Timeout) and a client the
//     function received as a parameter (its caller's job).
//   - go-github's NewClient (any major version) and githubv4's given
//     nil: they send on http.DefaultClient.
//   - Clients other libraries are known to build without Timeout count
//     as built in the package: go-cleanhttp's DefaultClient and
//     DefaultPooledClient, and golang.org/x/oauth2's NewClient and
//     google.DefaultClient given context.Background() or context.TODO()
//     written out (they copy the Timeout of a client the context
//     carries, and a background context carries none).
//   - An AWS SDK (v1) session made with no HTTPClient: session.NewSession,
//     New or NewSessionWithOptions given only literal configs
//     (&aws.Config{...}, session.Options{Config: aws.Config{...}}) that set
//     none, or no config. The SDK then sends on http.DefaultClient. A
//     config from elsewhere, or one that calls WithHTTPClient, is not
//     judged.
//   - A client whose Transport is an in-process one is not judged: a value
//     of a struct type of a program or library (not net/http's) holding no
//     RoundTripper, dialer, connection, function or empty interface (a fake
//     server's transport that hands each request to an http.Handler).
//   - Test helpers outside _test.go files (functions taking a *testing.T,
//     B or F, or a testing.TB) are left alone, like test files.
//   - http.Server.Shutdown given a background context: it waits for
//     every active connection to go idle, forever if a request never
//     finishes (a stalled client, a stuck handler, an event stream).
//   - A struct field holding an http.Client by value (struct{ c
//     http.Client }) that is never assigned and never given Timeout: its
//     zero value has none, reported where Get, Do... is called on it.
//
// kubeclient: client-go.
//   - A rest.Config built in the function (a literal, rest.InClusterConfig,
//     clientcmd's BuildConfigFromFlags or ClientConfig(), ToRESTConfig, or
//     rest.CopyConfig of such a config), or returned by a function of the
//     module that builds one, without Timeout, in the literal or assigned
//     later, handed to a NewForConfig (kubernetes, dynamic,
//     metadata, discovery, generated clientsets: any function whose name
//     contains ForConfig and takes a *rest.Config), RESTClientFor or
//     HTTPClientFor. A config received as a parameter is the caller's job.
//   - A background context passed to a client-go call: a method or function
//     of a package under k8s.io/client-go/ whose first parameter is a
//     context.Context (typed, dynamic and metadata clients, a rest.Request's
//     Do, DoRaw, Stream and Watch, discovery, scale, remotecommand
//     streams, cache.WaitForNamedCacheSyncWithContext, watch tools' Until),
//     except what runs until cancelled by design (Run*, Start*,
//     ListAndWatch*, leader election, event recorders, work queues).
//   - A client-go call without a context that has a ...WithContext form
//     (discovery's ServerVersion, OpenAPISchema, remotecommand's Stream):
//     it runs under context.Background(). With a client-go too old to
//     have those forms, discovery's requests
//     (ServerVersion, ServerGroups, ServerResourcesForGroupVersion,
//     ServerPreferredResources...) all the same: only the rest.Config's
//     Timeout can bound them.
//   - Not reported: a rest.Request whose chain calls Timeout(d); a Watch
//     whose ListOptions (or a rest.Request's VersionedParams) set
//     TimeoutSeconds (options from elsewhere are assumed to); a call on a
//     client made from a config with Timeout set (client-go then bounds
//     every request), in the package or by a function of the module that
//     returns the client or keeps it in a field.
//   - cache.WaitForCacheSync, WaitForNamedCacheSync and informer factories'
//     WaitForCacheSync given ctx.Done() of a background context or
//     wait.NeverStop; wait.PollUntilContextCancel with a background context.
//
// sqlcontext: database/sql.
//   - Query, QueryRow, Exec, Begin, Prepare and Ping on *sql.DB, *sql.Tx,
//     *sql.Conn and *sql.Stmt: they run under context.Background().
//   - Their Context forms, BeginTx and DB.Conn given a background context.
//   - Left alone: a package whose files import only database drivers that
//     cannot wait forever (SQLite compiled in, such as modernc.org/sqlite
//     or mattn/go-sqlite3: a local file; rqlite's, whose client has a
//     Timeout), none known to talk to a server unbounded (lib/pq, pgx,
//     go-sql-driver/mysql...), and no other non-standard package for its
//     side effects. A package that imports no driver is checked: the
//     driver may be chosen elsewhere. A network driver imported by name
//     (for a helper: pq.QuoteIdentifier) beside a SQLite one counts only
//     when the package opens a database other than SQLite (sql.Open or
//     sqlx's Open and Connect with a driver name that is not a constant
//     "sqlite" or "sqlite3"), or opens none. A package that imports no
//     driver but a package of its module left alone this way (a backend's
//     metadata package over its SQLite pool), and no package of its module
//     that imports a network driver, is left alone too, even when it
//     queries through a wrapper the network backends share.
//
// dialtimeout: network dials.
//   - net.Dial, net.DialTCP, tls.Dial.
//   - Dial on a net.Dialer built in the package without Timeout or
//     Deadline, on a tls.Dialer whose NetDialer is missing or has no
//     Timeout, and tls.DialWithDialer with such a net.Dialer.
//   - DialContext on such a dialer given a background context.
//   - smtp.Dial and smtp.SendMail: they dial with net.Dial and set no
//     deadline on the conversation. net/rpc's Dial, DialHTTP and
//     DialHTTPPath, and jsonrpc.Dial: they dial with net.Dial.
//   - ssh.Dial (golang.org/x/crypto/ssh) with a ClientConfig built in the
//     package, or returned by a function of the module, without Timeout
//     (which bounds the TCP connect).
//   - Dial on a github.com/gorilla/websocket Dialer built in the package
//     without HandshakeTimeout (websocket.DefaultDialer has one), and
//     DialContext on such a dialer given a background context.
//   - A generated gRPC client's unary call (a context first,
//     ...grpc.CallOption last, a result that is not a stream) given a
//     background context: gRPC sets no deadline of its own.
//   - Another library's client called on a background context: a method,
//     taking a context first, of a type named Client or ...Client
//     (containerd.Client, a KVClient interface), or of a type known to
//     work the same way (the MongoDB driver's Database and Collection;
//     etcd's KV, Lease, Cluster, Maintenance and Auth, which its Client
//     embeds; pgx's Conn, Tx and Pool; containers/image's
//     ImageReference, ImageSource and ImageDestination, whose registry
//     client has no Timeout), or of a connection to a server
//     (a type named ...Conn, or an interface of the module named conn:
//     rueidis's conn.Do), of a package outside the standard library and
//     the module, or of an interface of the module (nothing follows a
//     call through an interface). The module's own client types are
//     followed from source instead. A connection's reads (Read...,
//     Recv..., Receive..., Accept..., Wait..., Next...) wait for the peer
//     by design and are left alone. Left alone too: methods
//     that stream on purpose (Watch..., Subscribe..., Stream..., Logs...,
//     Listen..., Events..., Follow..., Tail..., or a result with Recv or
//     a channel), and clients that bound their own calls or that other
//     rules judge: client-go, controller-runtime, gRPC, go-redis (3 s
//     read and write timeouts), Vault's API (60 s) and Google Cloud's
//     generated clients, and an interface of the module declared in a
//     package that imports one of the self-bounded ones (a session store
//     over go-redis).
//   - Known connectors of other libraries, which wait on the context they
//     are given and set no deadline of their own, given a background
//     context: go-oidc's NewProvider (discovery), pgx's and pgxpool's
//     Connect and ConnectConfig (no connect_timeout by default),
//     go-ethereum's ethclient and rpc DialContext and DialWebsocket, and
//     nhooyr's and coder's websocket.Dial; and go-ethereum's context-free
//     Dial. An endpoint that is a constant URL other than ws:// (http://
//     is not dialled, an IPC path fails at once) is left alone.
//   - A gRPC dial that blocks (grpc.WithBlock or WithReturnConnectionError
//     among its options, and no grpc.WithTimeout): grpc.Dial, and
//     grpc.DialContext given a background context. Options passed as a
//     slice are followed when the slice is a variable or parameter of the
//     calling function, or of the function a goroutine's literal is in
//     (its literals, makes and appends: a parameter the function appends
//     WithBlock to blocks); one from a call, or a parameter only passed
//     on, is assumed not to block.
//   - Handshake() on a TLS connection (crypto/tls, or uTLS's Conn and
//     UConn) in a function that calls neither SetDeadline nor
//     SetReadDeadline on anything before it (itself, or through the
//     package's functions it calls first): it has no context, and a peer
//     that never answers the handshake blocks it forever
//     (HandshakeContext takes one). The same order holds for the SSH
//     handshakes and smtp.NewClient below. Not on a connection that
//     tls.Dial, tls.DialWithDialer or a tls.Dialer returned: those have
//     run the handshake already (the dial is judged instead).
//   - ssh.NewClientConn and ssh.NewServerConn (golang.org/x/crypto/ssh)
//     in a function that sets no deadline: the handshake reads the peer's
//     version and key exchange with none (ClientConfig.Timeout bounds
//     only ssh.Dial's TCP connect), so a server that never answers blocks
//     the client forever, and a client that never completes it holds a
//     server's goroutine forever.
//   - Dial of a golang.org/x/net/proxy Dialer (proxy.FromEnvironment(),
//     proxy.SOCKS5(...), a PerHost): it takes no context, and the
//     library's dialers connect with no timeout (proxy.Direct is a zero
//     net.Dialer), the SOCKS5 handshake included.
//   - A dial through an SSH connection: ssh.Client's Dial and DialTCP
//     (no timeout: the server dials and the channel open waits for its
//     answer) and its DialContext given a background context.
//   - smtp.NewClient (net/smtp's, or a fork's: a package named smtp whose
//     NewClient takes a net.Conn) in a function that sets no deadline: it
//     reads the server's greeting, which a server may never send.
//   - Dial or DialContext of a net.Dialer without Timeout taken as a
//     function value ((&net.Dialer{}).DialContext kept in a field): its
//     callers connect with no bound but their context. One put in an
//     http.Transport is left to the HTTP rules.
//   - A request and its reply on a client's connection with no read
//     deadline: a connection returned by a call of the function (a dial,
//     or a helper of the package that dials; not a listener's Accept, a
//     hijacked or tls.Server connection, or net.Pipe) that is written to
//     and read from, by the function or by the package's functions it is
//     handed to (an MQTT CONNECT and the CONNACK awaited after it),
//     reported where the reply is read or where the connection is handed
//     to the function that reads it; and a connection read in a function
//     that sets a write deadline on it but no read deadline (a SASL
//     exchange on a broker's connection field). Reads are Read calls and
//     hand-offs where an io.Reader is wanted (io.ReadFull, bufio,
//     decoders), writes likewise. Connections are net.Conn and the
//     connection types of net, crypto/tls and uTLS; a program's own
//     connection types may bound their reads and are not judged. Left
//     alone: a function that sets a read deadline on anything, itself or
//     through the package's functions it calls, and a connection that is
//     only read (a subscriber waits for the server by design).
//   - Connections of libraries that wait for replies with no deadline
//     unless asked for one: redigo's Dial, DialContext and DialURL given
//     no DialReadTimeout option (options passed as a slice are not
//     judged), in a package that never uses DoWithTimeout or
//     ReceiveWithTimeout; go-ldap's Dial, DialURL and DialTLS in a
//     package that never calls SetTimeout.
//   - DNS lookups nothing can cancel: net's context-free LookupHost,
//     LookupIP, LookupAddr, LookupCNAME, LookupMX, LookupNS, LookupSRV,
//     LookupTXT and ResolveIPAddr, called or taken as a function value
//     (lookupHost = net.LookupHost), and net.Resolver's context forms
//     (or those of an interface *net.Resolver implements, a dialer's
//     Resolver) given a background context. The resolver's timeout and attempts
//     bound each query, but for every server and search domain in turn:
//     minutes in a pod with ndots:5, longer with the cgo resolver. A
//     constant IP address, "localhost" or "" is left alone, and so are
//     LookupPort (a services file), ResolveTCPAddr and ResolveUDPAddr
//     (mostly listen addresses).
//   - Unix sockets (the network a constant "unix", "unixgram",
//     "unixpacket") are left alone: connecting fails at once when nobody
//     listens. So are UDP and raw IP sockets (a constant "udp...",
//     "ip..."): connecting one sends nothing and waits for no peer.
//
// httpserver: servers.
//   - An http.Server built in the package with neither ReadHeaderTimeout
//     nor ReadTimeout (which also bounds the headers), in the literal or
//     assigned later in the package (see below for a server handed to a
//     function: configure(srv), go serve(srv, l)).
//   - http.ListenAndServe, ListenAndServeTLS, Serve and ServeTLS: their
//     server has no timeouts.
//
// diagignore: a //diag:ignore comment without a reason.
//
// # Bounded and background contexts
//
// A context is background when it is context.Background() or
// context.TODO(), or is derived from one only by WithCancel,
// WithCancelCause, WithValue, signal.NotifyContext or errgroup.WithContext;
// context.WithoutCancel(ctx) is background whatever ctx is, since it drops
// the deadline. A WithCancel or WithCancelCause whose cancel function is
// handed to time.AfterFunc, or to a goroutine the function starts that
// also makes a timer or sleeps (a helper that keeps a context's values
// and ends it a few seconds after the parent is done), is not background:
// that timer ends it. golang.org/x/net/context's functions, which older code
// imports, count as the context package's. A context is bounded when
// WithTimeout, WithDeadline,
// WithTimeoutCause or WithDeadlineCause made it, on every path that
// reaches the call in the same function: the checks follow the function's
// SSA form, so a deadline set in one branch only does not count, and a
// variable captured by a function literal has the value it had where the
// literal was made. A function of the package that returns a context
// first (a hook that decorates the one it is given) is followed into: what
// it returns, with its parameters standing for the call's arguments.
//
// A field set to a constant zero (ReadHeaderTimeout: 0, Timeout: 0,
// s.Timeout = 0) counts as not set, in every check. A value (a client,
// config, dialer or server) handed by pointer to a function of the
// package counts as set only for the fields that function, or one it
// hands the value on to, assigns; one that keeps the value, returns it,
// dereferences it or calls a method of the package on it may set
// anything. A function of another package sets nothing.
//
// A context the function receives as a parameter is its caller's job.
// For each function of the package the checks compute, to a fixpoint,
// which context parameters (and stop-channel parameters) reach a call
// above unbounded, and report each call in the package that passes a
// background context into such a parameter, naming the call it reaches:
//
//	main.go:20:2: context.Background() passed to run reaches client-go call
//	Create at kube.go:42 (through sync) with no deadline: ...
//
// The same crosses packages: an exported function's context parameters
// that reach such a call are a fact, and a call from another package
// passing a background context into one is reported, naming the
// package and file of the call it reaches:
//
//	fire.go:12:2: context.Background() passed to alerts.Notifier.Notify
//	reaches Do on an http.Client without Timeout (hook.go:13) at
//	notify/hook.go:21 (through alerts.Notifier.Notify, notify.Hook.Send) ...
//
// A context handed to a call together with a function whose context
// parameter reaches such a call (sm.Any(context.TODO(), g, func(ctx
// context.Context, ...) error {...}), retry.Do(ctx, op)) reaches it too:
// the callee runs the function on that context or one derived from it.
// A callee of the package is followed into to see that it does (one
// that gives the function a deadline of its own is not reported); one
// of another package is taken at its word unless its name or one of its
// parameters' names says timeout or deadline (PollUntilContextTimeout).
//
// A context a function of the module returns is background when every
// return builds it from context.Background() or TODO() (in the same
// package or, by fact, another one): ctx := newContext(). A context
// kept in an unexported struct field of a type of the package is
// background when every store to the field in the package keeps a
// background context (a service's lifetime context: s.ctx, s.cancel =
// context.WithCancel(context.Background())). A context of any other
// origin (another struct field, a method's result such as r.Context()
// or cmd.Context(), a parameter's derivation returned by a helper, a
// function outside the module) is assumed bounded.
//
// # Fix hints
//
// A fix must not break what it fixes:
//   - A call in a loop (a for loop, or a function literal handed to
//     wait.Until and its kin) on a context the loop shares is told to get
//     a deadline per call or per iteration, made inside the loop, never one
//     on the shared context, which would end the loop; the same holds when
//     the loop sits between a background context and the call it reaches
//     (run(ctx) whose worker loop calls sync(ctx)).
//   - client-go streams (a rest.Request's Stream: logs, exec,
//     port-forward) are told to use a context cancelled after an idle
//     period, not a fixed deadline or the config's Timeout; a Watch,
//     ListOptions.TimeoutSeconds or a deadline per watch.
//   - A rest.Config in a program that opens such streams (in the package
//     or a package of the module it imports) is told to bound each
//     request, or to keep a second config with Timeout for short calls,
//     not to set its Timeout.
//   - An http.Client whose response is read as a stream (an
//     text/event-stream request, follow= or watch= in the URL, the body
//     read with bufio) is told to bound the connection (the Transport's
//     ResponseHeaderTimeout, a dial timeout) and cancel on idleness, not
//     to set Timeout.
//
// Two exceptions keep libraries quiet. A call into the package's own
// functions is never a sink itself: what it reaches is followed instead.
// And a context-free form of a function, one that takes no context while
// a sibling named like it plus WithContext (or Context) does, passes a
// background context or calls another context-free form by design:
//
//	func (d *Client) ServerVersion() (*Info, error) {
//		return d.ServerVersionWithContext(context.Background())
//	}
//
// is not reported; its callers are, when it is client-go's. A method
// whose receiver holds a context of its own (a transaction begun under
// one) is no such form: passing a background context there drops the
// context it has (bun's Tx.Exec passed context.TODO() to ExecContext).
//
// # Suppressing a finding
//
// A //diag:ignore comment with a reason, on the line of the finding or on
// the line above, suppresses it:
//
//	//diag:ignore the apiserver is on loopback and the test binary has -timeout
//	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), opts)
//
// A finding is reported at the start of its call (or at the literal it
// is about), so the comment goes above the statement. A //diag:ignore
// without a reason suppresses nothing and is itself a finding.
//
// # Where it is blind
//
// This is a heuristic that prefers saying nothing to crying wolf. It does
// not see:
//   - contexts kept in struct fields (assumed bounded), but the
//     unexported ones the package sets only from background contexts;
//   - packages outside the module under diag vet (no facts: what their
//     functions return and what their context parameters reach are
//     unknown); a context handed to another package crosses only by a
//     static call of an exported function (not through an interface,
//     a function value or a package variable holding a function);
//   - a helper's result that depends on its arguments (httpx.New(d) with
//     d = 0 counts as a client with Timeout), results other than the
//     first of a call unless returned whole (_, c := f()), named results
//     returned bare, and recursion;
//   - calls through interfaces the program declares (a consumer-declared
//     PodClient interface over client-go is judged only by its name, as
//     any ...Client above), function values and callbacks (but the
//     function handed with a context, above),
//     generic functions, and reflection; a background context handed to an
//     API that ignores it (a pager whose page function uses another
//     context) is reported all the same;
//   - variables whose address is taken (&opts) are not followed;
//   - goroutines started through something other than a function literal
//     or a direct call, and channels: a receive with no timeout or a
//     sync.WaitGroup.Wait is out of scope;
//   - http.Transport settings: a client whose Transport sets
//     ResponseHeaderTimeout but not Timeout is still reported, and a
//     response body read after the headers is never checked;
//   - client libraries other than net/http, database/sql, net, crypto/tls
//     and client-go beyond the name of their client types (a call on a
//     background context to a method of a type not named ...Client, a
//     package-level function not in the connectors' table, cloud SDKs);
//   - test files (_test.go, bounded by go test -timeout) and generated
//     files, which are skipped.
package vet
