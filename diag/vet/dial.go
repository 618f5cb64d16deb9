package vet

import (
	"go/ast"
	"go/token"
	"go/types"
	"net"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// Dial reports network dials nothing bounds.
var Dial = &analysis.Analyzer{
	Name: "dialtimeout",
	Doc: `report network dials with no timeout

Reports net.Dial, net.DialTCP and tls.Dial; Dial on a net.Dialer or
tls.Dialer built in the package without Timeout (or Deadline), and
tls.DialWithDialer with one; DialContext on such a dialer given a
background context; net/rpc's Dial, DialHTTP and DialHTTPPath and
jsonrpc.Dial, which dial with net.Dial; smtp.Dial and smtp.SendMail,
which dial with no timeout and set no deadline; ssh.Dial
(golang.org/x/crypto/ssh) with a ClientConfig built without Timeout;
Dial on a gorilla websocket.Dialer built without HandshakeTimeout, and
DialContext on one given a background context; a generated gRPC client's
unary call given a background context; another library's client (a type
named ...Client) or connection (...Conn) called on a background context;
known connectors of other libraries (go-oidc's NewProvider, pgx's
Connect, go-ethereum's and nhooyr's websocket dials) given a background
context, and go-ethereum's context-free Dial; a TLS Handshake(), an
smtp.NewClient (which reads the greeting) or an SSH handshake
(ssh.NewClientConn, NewServerConn) with no deadline set before it in the
function; the context-free Dial of golang.org/x/net/proxy's dialers; a
dial through an SSH connection (ssh.Client's Dial, or DialContext on a
background context); Dial or DialContext of a net.Dialer without Timeout
taken as a function value; a request written and its reply read on a
client's connection (a dial's, or a helper's) with no read deadline, or
a connection read in a function that sets only a write deadline on it;
redigo dials with no DialReadTimeout and go-ldap dials in a package that
never calls SetTimeout; net's context-free DNS lookups (LookupHost,
LookupIP, ResolveIPAddr...), called or taken as a value, and
net.Resolver's given a background context; a gRPC dial that blocks
(grpc.WithBlock, written out or appended to a slice of the function's)
with no grpc.WithTimeout: grpc.Dial, or DialContext given a background
context. Dials of unix sockets (the network a constant "unix...") are
left alone: connecting to one fails at once when nobody listens; so are
UDP and raw IP ones ("udp...", "ip..."): connecting sends nothing.`,
	Requires:  []*analysis.Analyzer{buildSSA, Facts},
	FactTypes: []analysis.Fact{new(dialCtxFact)},
	Run:       runDial,
}

const (
	utlsPkg      = "github.com/refraction-networking/utls"
	sshPkg       = "golang.org/x/crypto/ssh"
	grpcPkg      = "google.golang.org/grpc"
	websocketPkg = "github.com/gorilla/websocket"
	proxyPkg     = "golang.org/x/net/proxy"
)

const (
	smtpWhy       = "it dials with net.Dial and sets no deadline, so a mail server that accepts the connection and never answers blocks it forever"
	greetingWhy   = "a mail server that accepts the connection and never sends its greeting blocks it forever"
	wsWhy         = "a server that accepts the connection and never answers the WebSocket handshake blocks it forever"
	grpcCallWhy   = "gRPC sets no deadline of its own, so a server that accepts the call and never answers blocks it forever"
	grpcWhy       = "grpc.WithBlock waits until the connection is up, and an address that never answers keeps it waiting forever"
	connectWhy    = "connecting to a host that drops packets waits for the kernel's SYN retries (~2 minutes on Linux)"
	handshakeWhy  = "a server that accepts the connection and never answers the TLS handshake blocks it forever"
	proxyWhy      = "golang.org/x/net/proxy's dialers (FromEnvironment's, and SOCKS5's forward dialer, proxy.Direct, when none is given) connect with no timeout, and a SOCKS5 proxy's handshake waits on that connection, so a proxy or target that drops packets or never answers blocks it"
	sshChannelWhy = "the SSH server dials the address for you and the channel open waits for its answer with no deadline, so a target that drops packets, or a server that never answers, blocks it forever"
	dnsWhy        = "nothing can cancel the lookup: it waits as long as the resolver lets it (resolv.conf's timeout and attempts for every server and search domain, minutes in a pod with ndots:5, and longer with the cgo resolver)"
	clientCallWhy = "the context is all that bounds a call to a remote service unless its client sets a deadline of its own, so a server that accepts the call and never answers can block it forever"
)

// A connector is another library's function that connects to a server
// (or fetches from one) on the context it is given, with no deadline of
// its own, or a context-free form of one that uses context.Background().
type connector struct {
	pkgs  []string // import paths (major versions are different paths)
	names []string
	ctx   bool   // takes a context first; else context-free
	why   string // what waits, for the message
	// url is the index of the endpoint argument, for connectors that
	// only a ws:// URL makes wait (an http:// one is not dialled, an IPC
	// path fails at once): a constant other URL is left alone. It is
	// checked when above 0, and always for a context-free connector,
	// whose endpoint is its first argument (index 0).
	url int
}

var connectors = []connector{
	{[]string{"github.com/coreos/go-oidc/v3/oidc", "github.com/coreos/go-oidc"}, []string{"NewProvider"}, true,
		"it fetches the issuer's discovery document on that context (with http.DefaultClient unless the context carries a client), so an issuer that never answers blocks it forever", 0},
	{[]string{"github.com/jackc/pgx/v5", "github.com/jackc/pgx/v4", "github.com/jackc/pgx/v5/pgxpool", "github.com/jackc/pgx/v4/pgxpool"}, []string{"Connect", "ConnectConfig"}, true,
		"pgx connects with no timeout unless the connection string sets connect_timeout, so a database that never answers blocks it forever", 0},
	{[]string{"github.com/ethereum/go-ethereum/ethclient", "github.com/ethereum/go-ethereum/rpc"}, []string{"DialContext", "DialWebsocket"}, true,
		"a ws:// endpoint is dialled and its handshake waits on that context alone, so a node that never answers blocks it forever", 1},
	{[]string{"github.com/ethereum/go-ethereum/ethclient", "github.com/ethereum/go-ethereum/rpc"}, []string{"Dial"}, false,
		"it dials with context.Background(): a ws:// endpoint's handshake waits with no deadline, so a node that never answers blocks it forever; use DialContext with a context that has a deadline", 0},
	{[]string{"nhooyr.io/websocket", "github.com/coder/websocket"}, []string{"Dial"}, true,
		"the handshake waits on that context alone, so a server that never answers blocks it forever", 0},
}

// connectorAt returns the connector s calls, if any, unless its
// endpoint is a constant URL that does not make it wait.
func (c *checker) connectorAt(s *site) *connector {
	for i := range connectors {
		k := &connectors[i]
		for _, p := range k.pkgs {
			if !isFunc(s.callee, p, k.names...) {
				continue
			}
			if k.url > 0 || !k.ctx {
				if s.expr == nil || k.url >= len(s.expr.Args) {
					return nil
				}
				if u, ok := constString(c.pass.TypesInfo, s.expr.Args[k.url]); ok && !strings.HasPrefix(u, "ws") {
					return nil
				}
			}
			return k
		}
	}
	return nil
}

// boundedClientPkgs are packages (and their subpackages) whose clients
// bound their own calls: go-redis (3 s read and write timeouts by
// default), Vault's API client (60 s) and Google Cloud's generated
// clients (a timeout per method). judgedClientPkgs are those whose calls
// other rules judge: client-go's and controller-runtime's (kubeclient),
// gRPC's (the unary-call rule).
var (
	boundedClientPkgs = []string{"github.com/redis/go-redis", "github.com/go-redis/redis", "github.com/hashicorp/vault/api", "cloud.google.com/go"}
	judgedClientPkgs  = []string{"k8s.io", "sigs.k8s.io/controller-runtime", grpcPkg}
)

// underAny reports whether path is one of pkgs or below one.
func underAny(path string, pkgs []string) bool {
	for _, p := range pkgs {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// hasAnyPrefix reports whether name starts with one of prefixes.
func hasAnyPrefix(name string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// remoteClientCall reports whether s calls a method, taking a context
// first, of another library's client (a type named Client or ...Client
// of a package outside the module, not in boundedClientPkgs), or of an
// interface named so: a call to a remote service that vet cannot follow
// into. A method of the module's own client is followed from source
// instead. Methods that return a stream (a result with Recv, a channel)
// or open one on purpose (Watch, Subscribe, Stream, Logs, Listen, Events,
// Follow, Tail...) are left alone: they run as long as their context by
// design.
func (c *checker) remoteClientCall(s *site) bool {
	f := s.callee
	if f == nil || f.Signature().Recv() == nil || !firstParamIsContext(f) || !f.Exported() {
		return false
	}
	t := f.Signature().Recv().Type()
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	conn := connLike(n.Obj().Name()) && !clientLike(n.Obj())
	if !strings.HasSuffix(n.Obj().Name(), "Client") && !clientLike(n.Obj()) && !conn {
		return false
	}
	if conn {
		// A connection's reads wait for the peer by design (a
		// subscriber's, a stream's); its requests do not.
		if hasAnyPrefix(f.Name(), "Read", "Recv", "Receive", "Accept", "Wait", "Next", "Close", "Serve", "Handle") {
			return false
		}
	}
	decl := n.Obj().Pkg()
	path := decl.Path()
	if decl != c.pass.Pkg && stdPath(path) {
		return false // the standard library's
	}
	if underAny(path, boundedClientPkgs) || underAny(path, judgedClientPkgs) {
		return false
	}
	if !s.common.IsInvoke() && !c.foreignPkg(path) {
		return false // the module's own: followed from source
	}
	if _, ok := n.Underlying().(*types.Interface); ok && !c.foreignPkg(path) {
		// The module's own interface, over some client: not one that
		// bounds its own calls.
		for _, imp := range decl.Imports() {
			if underAny(imp.Path(), boundedClientPkgs) {
				return false
			}
		}
	}
	sig := f.Signature()
	if ps := sig.Params(); sig.Variadic() && isNamed(ps.At(ps.Len()-1).Type().(*types.Slice).Elem(), grpcPkg, "CallOption") {
		return false // a generated gRPC client: the unary-call rule's
	}
	if hasAnyPrefix(f.Name(), "Watch", "Subscribe", "Stream", "Logs", "Listen", "Events", "Follow", "Tail") {
		return false
	}
	for i := range sig.Results().Len() {
		r := sig.Results().At(i).Type()
		if recv, _, _ := types.LookupFieldOrMethod(r, true, nil, "Recv"); recv != nil {
			return false
		}
		if _, ok := types.Unalias(r).Underlying().(*types.Chan); ok {
			return false
		}
	}
	return true
}

// clientLikeTypes are other libraries' types not named ...Client whose
// methods talk to a server on the context they are given, with no
// deadline of their own: the MongoDB driver's Database and Collection
// (no socket timeout by default), and etcd's KV, Lease, Cluster,
// Maintenance and Auth, which its Client embeds (gRPC calls; the
// client's DialTimeout bounds only the connection), pgx's Conn, Tx
// and Pool (no statement timeout unless the server sets one), and
// containers/image's ImageReference, ImageSource and ImageDestination
// (its registry client has no Timeout: blobs can be large).
var (
	etcdTypes       = []string{"KV", "Lease", "Cluster", "Maintenance", "Auth"}
	imageTypes      = []string{"ImageReference", "ImageSource", "ImageDestination"}
	clientLikeTypes = map[string][]string{
		"go.mongodb.org/mongo-driver/mongo":    {"Database", "Collection"},
		"go.mongodb.org/mongo-driver/v2/mongo": {"Database", "Collection"},
		"go.etcd.io/etcd/client/v3":            etcdTypes,
		"go.etcd.io/etcd/clientv3":             etcdTypes,
		"github.com/coreos/etcd/clientv3":      etcdTypes,
		"github.com/jackc/pgx/v4":              {"Conn", "Tx"},
		"github.com/jackc/pgx/v5":              {"Conn", "Tx"},
		"github.com/jackc/pgx/v4/pgxpool":      {"Pool", "Conn"},
		"github.com/jackc/pgx/v5/pgxpool":      {"Pool", "Conn"},
		"github.com/containers/image/v5/types": imageTypes,
		"go.podman.io/image/v5/types":          imageTypes,
	}
)

// connLike reports whether a type's name says it is a connection to a
// server (pgconn.PgConn, a driver.Conn, nats.Conn, a redis client's own
// conn interface), whose methods taking a context are requests to it.
func connLike(name string) bool {
	return strings.HasSuffix(name, "Conn") || name == "conn"
}

func clientLike(tn *types.TypeName) bool {
	for _, name := range clientLikeTypes[tn.Pkg().Path()] {
		if tn.Name() == name {
			return true
		}
	}
	return false
}

// methodName is how a message names a method of a named type:
// pkg.Type.Method.
func methodName(f *types.Func) string {
	t := f.Signature().Recv().Type()
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n := types.Unalias(t).(*types.Named)
	return n.Obj().Pkg().Name() + "." + n.Obj().Name() + "." + f.Name()
}

func runDial(pass *analysis.Pass) (any, error) {
	c := newChecker(pass)
	c.sites(func(s *site) {
		switch {
		case isFunc(s.callee, "net", "Dial", "DialTCP") && !c.noWaitDial(s, 0):
			c.report(s.pos(), "net.%s has no timeout: %s; use net.DialTimeout or a net.Dialer with Timeout", s.callee.Name(), connectWhy)
		case (isFunc(s.callee, "net/rpc", "Dial", "DialHTTP", "DialHTTPPath") || isFunc(s.callee, "net/rpc/jsonrpc", "Dial")) && !c.noWaitDial(s, 0):
			c.report(s.pos(), "%s.%s dials with net.Dial, which has no timeout: %s; dial with net.DialTimeout (or a net.Dialer with Timeout) and hand the connection to %s.NewClient", s.callee.Pkg().Name(), s.callee.Name(), connectWhy, s.callee.Pkg().Name())
		case isFunc(s.callee, "crypto/tls", "Dial") && !c.noWaitDial(s, 0):
			c.report(s.pos(), "tls.Dial has no timeout: %s; use tls.DialWithDialer with a net.Dialer that has a Timeout, or tls.Dialer.DialContext with a deadline", handshakeWhy)
		case isFunc(s.callee, "crypto/tls", "DialWithDialer") && s.expr != nil && len(s.expr.Args) > 0 && !c.noWaitDial(s, 1):
			for _, b := range c.untimedNetDialers(s.expr.Args[0]) {
				c.report(s.pos(), "tls.DialWithDialer with a net.Dialer without Timeout (%s): %s; set the Dialer's Timeout", c.boundWhere(b), handshakeWhy)
			}
		case isMethod(s.callee, "net", "Dialer", "Dial") && !c.noWaitDial(s, 0):
			for _, b := range c.untimedNetDialers(c.recv(s)) {
				c.report(s.pos(), "Dial on a net.Dialer without Timeout (%s): %s; set the Dialer's Timeout", c.boundWhere(b), connectWhy)
			}
		case isMethod(s.callee, "crypto/tls", "Dialer", "Dial") && !c.noWaitDial(s, 0):
			for _, b := range c.untimedTLSDialers(c.recv(s)) {
				c.report(s.pos(), "Dial on a tls.Dialer without a NetDialer Timeout (%s): %s; set NetDialer to a net.Dialer with Timeout, or use DialContext with a deadline", c.where(b.Pos()), handshakeWhy)
			}
		case isFunc(s.callee, "net/smtp", "Dial", "SendMail"):
			c.report(s.pos(), "smtp.%s has no timeout: %s; dial with a net.Dialer that has a Timeout, set a deadline on the connection (SetDeadline) and use smtp.NewClient", s.callee.Name(), smtpWhy)
		case isFunc(s.callee, sshPkg, "Dial") && s.expr != nil && len(s.expr.Args) == 3 && !c.noWaitDial(s, 0):
			for _, b := range untimedOnly(c.sum.judge(s.expr.Args[2], sshConfigT)) {
				c.report(s.pos(), "ssh.Dial with a ClientConfig without Timeout (%s): %s; set the ClientConfig's Timeout", c.boundWhere(b), connectWhy)
			}
		case isMethod(s.callee, websocketPkg, "Dialer", "Dial"):
			for _, b := range untimedOnly(c.sum.judge(c.recv(s), wsDialerT)) {
				c.report(s.pos(), "Dial on a websocket.Dialer without HandshakeTimeout (%s): %s; set HandshakeTimeout (websocket.DefaultDialer has one)", c.boundWhere(b), wsWhy)
			}
		case c.connectorAt(s) != nil && !c.connectorAt(s).ctx:
			c.report(s.pos(), "%s.%s has no timeout: %s", s.callee.Pkg().Name(), s.callee.Name(), c.connectorAt(s).why)
		case smtpNewClient(s.callee) && !setsDeadlineBefore(s.fn, s.common.Pos()):
			c.report(s.pos(), "%s.NewClient reads the server's greeting on a connection the function sets no deadline on: %s; SetDeadline on the connection before NewClient (and clear or renew it after the conversation)", s.callee.Pkg().Name(), greetingWhy)
		case (isMethod(s.callee, proxyPkg, "Dialer", "Dial") || isMethod(s.callee, proxyPkg, "PerHost", "Dial")) && !c.noWaitDial(s, 0):
			c.report(s.pos(), "proxy.Dialer.Dial has no context: %s; use DialContext (proxy.ContextDialer) with a context that has a deadline", proxyWhy)
		case isMethod(s.callee, sshPkg, "Client", "Dial", "DialTCP"):
			c.report(s.pos(), "ssh.Client.%s has no timeout: %s; use DialContext with a context that has a deadline", s.callee.Name(), sshChannelWhy)
		case isFunc(s.callee, sshPkg, "NewClientConn", "NewServerConn") && !setsDeadlineBefore(s.fn, s.common.Pos()):
			why := "a server that accepts the connection and never answers the handshake blocks it forever (ClientConfig.Timeout bounds only ssh.Dial's TCP connect)"
			if s.callee.Name() == "NewServerConn" {
				why = "a client that connects and never completes the handshake holds this goroutine and its connection forever"
			}
			c.report(s.pos(), "ssh.%s runs the SSH handshake on a connection the function sets no deadline on: %s; SetDeadline on the connection first and clear it after the handshake", s.callee.Name(), why)
		case isHandshake(s.callee) && !setsDeadlineBefore(s.fn, s.common.Pos()) && !handshaken(s.arg(-1), 0):
			c.report(s.pos(), "%s has no context and the function sets no deadline on the connection: %s; use HandshakeContext with a context that has a deadline, or SetDeadline on the connection first", methodName(s.callee), handshakeWhy)
		case isDNSLookup(s.callee) && !c.constIPLookup(s):
			c.report(s.pos(), "net.%s has no context: %s; use net.DefaultResolver.%s with a context that has a deadline", s.callee.Name(), dnsWhy, resolverForm(s.callee))
		case isFunc(s.callee, grpcPkg, "Dial") && c.grpcBlocks(s, 1):
			c.report(s.pos(), "grpc.Dial with grpc.WithBlock and no timeout: %s; use grpc.DialContext with a context that has a deadline, or drop WithBlock", grpcWhy)
		}
	})
	c.dialerValues()
	c.lookupValues()
	c.connExchanges()
	c.libConns()
	c.flowContexts(func(s *site) *ctxSink {
		switch {
		case isMethod(s.callee, "net", "Dialer", "DialContext") && !c.noWaitDial(s, 1):
			if b := c.untimedNetDialers(c.recv(s)); len(b) > 0 {
				return &ctxSink{val: s.arg(0), what: "DialContext on a net.Dialer without Timeout (" + c.boundWhere(b[0]) + ")", why: connectWhy,
					fix: "pass a context with a deadline or set the Dialer's Timeout"}
			}
		case isMethod(s.callee, websocketPkg, "Dialer", "DialContext"):
			if b := untimedOnly(c.sum.judge(c.recv(s), wsDialerT)); len(b) > 0 {
				return &ctxSink{val: s.arg(0), what: "DialContext on a websocket.Dialer without HandshakeTimeout (" + c.boundWhere(b[0]) + ")", why: wsWhy,
					fix: "pass a context with a deadline or set HandshakeTimeout"}
			}
		case c.connectorAt(s) != nil && c.connectorAt(s).ctx:
			return &ctxSink{val: s.arg(0), what: s.callee.Pkg().Name() + "." + s.callee.Name(), why: c.connectorAt(s).why,
				fix: "pass a context with a deadline (context.WithTimeout)"}
		case isMethod(s.callee, sshPkg, "Client", "DialContext"):
			return &ctxSink{val: s.arg(0), what: "ssh.Client.DialContext", why: sshChannelWhy,
				fix: "pass a context with a deadline (context.WithTimeout)"}
		case c.resolverLookup(s):
			return &ctxSink{val: s.arg(0), what: "DNS lookup " + s.callee.Name(), why: "the context is all that bounds it beyond the resolver's own timeouts and attempts, which add up to minutes in a pod with ndots:5",
				fix: "pass a context with a deadline (context.WithTimeout)"}
		case grpcUnary(s.callee):
			return &ctxSink{val: s.arg(0), what: "gRPC call " + s.callee.Name(), why: grpcCallWhy,
				fix: "pass a context with a deadline (context.WithTimeout)"}
		case c.remoteClientCall(s):
			return &ctxSink{val: s.arg(0), what: "client call " + methodName(s.callee), why: clientCallWhy,
				fix: "pass a context with a deadline (context.WithTimeout)"}
		case isFunc(s.callee, grpcPkg, "DialContext") && c.grpcBlocks(s, 2):
			return &ctxSink{val: s.arg(0), what: "grpc.DialContext with grpc.WithBlock", why: grpcWhy,
				fix: "pass a context with a deadline or drop WithBlock"}
		case isMethod(s.callee, "crypto/tls", "Dialer", "DialContext") && !c.noWaitDial(s, 1):
			if b := c.untimedTLSDialers(c.recv(s)); len(b) > 0 {
				return &ctxSink{val: s.arg(0), what: "DialContext on a tls.Dialer without a NetDialer Timeout (" + c.where(b[0].Pos()) + ")", why: handshakeWhy,
					fix: "pass a context with a deadline or set NetDialer to a net.Dialer with Timeout"}
			}
		}
		return nil
	}, func() ctxFact { return new(dialCtxFact) })
	return nil, nil
}

// grpcUnary reports whether f is a generated gRPC client's unary
// method: a context first, ...grpc.CallOption last, and a result that is
// not a stream (a stream runs as long as its context by design).
func grpcUnary(f *types.Func) bool {
	if f == nil || !firstParamIsContext(f) {
		return false
	}
	sig := f.Signature()
	ps := sig.Params()
	if !sig.Variadic() || ps.Len() < 2 {
		return false
	}
	last, ok := ps.At(ps.Len() - 1).Type().(*types.Slice)
	if !ok || !isNamed(last.Elem(), grpcPkg, "CallOption") {
		return false
	}
	if sig.Results().Len() == 0 {
		return false
	}
	recv, _, _ := types.LookupFieldOrMethod(sig.Results().At(0).Type(), true, nil, "Recv")
	return recv == nil
}

// grpcBlocks reports whether a gRPC dial's options, from its from-th
// argument on, include grpc.WithBlock (or WithReturnConnectionError, which
// implies it) and no grpc.WithTimeout. Options passed as a slice (opts...)
// are followed when the slice is a variable of the calling function: the
// options of its composite literals and of what is appended to it. A
// slice from anywhere else (a parameter, a call) is assumed not to block.
func (c *checker) grpcBlocks(s *site, from int) bool {
	if s.expr == nil {
		return false
	}
	opts := s.expr.Args[min(from, len(s.expr.Args)):]
	if s.expr.Ellipsis.IsValid() {
		if len(opts) == 0 {
			return false
		}
		opts = c.sliceElems(s.fn, opts[len(opts)-1])
	}
	block := false
	for _, a := range opts {
		call, ok := ast.Unparen(a).(*ast.CallExpr)
		if !ok {
			continue
		}
		switch f := calleeFunc(c.pass.TypesInfo, call); {
		case isFunc(f, grpcPkg, "WithBlock", "WithReturnConnectionError"):
			block = true
		case isFunc(f, grpcPkg, "WithTimeout"):
			return false
		}
	}
	return block
}

// sliceElems returns the elements given to the slice variable v in fn's
// body (the body of the function fn is a literal of, for a variable a
// goroutine captures): those of the composite literals assigned to it
// and the values appended to it (v = append(v, a, b)); make gives none.
// It returns nil when v is not a local variable or parameter of that
// function, or when anything else is assigned to it.
func (c *checker) sliceElems(fn *ssa.Function, v ast.Expr) []ast.Expr {
	for fn != nil && fn.Parent() != nil {
		fn = fn.Parent()
	}
	id, ok := ast.Unparen(v).(*ast.Ident)
	if !ok || fn == nil || fn.Syntax() == nil {
		return nil
	}
	obj, ok := c.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok || obj.Parent() == nil || obj.Parent() == c.pass.Pkg.Scope() {
		return nil
	}
	var elems []ast.Expr
	unknown := false
	give := func(lhs ast.Expr, rhs ast.Expr) {
		if !c.names(lhs, obj) {
			return
		}
		switch r := ast.Unparen(rhs).(type) {
		case *ast.CompositeLit:
			elems = append(elems, r.Elts...)
			return
		case *ast.CallExpr:
			if builtinCall(c.pass.TypesInfo, r, "append") && !r.Ellipsis.IsValid() && c.names(r.Args[0], obj) {
				elems = append(elems, r.Args[1:]...)
				return
			}
			if builtinCall(c.pass.TypesInfo, r, "make") {
				return // an empty slice, filled by appends
			}
		}
		// Options from elsewhere (a call, another slice) may bound
		// the dial: the slice is not judged.
		unknown = true
	}
	ast.Inspect(fn.Syntax(), func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				if len(n.Lhs) == len(n.Rhs) {
					give(l, n.Rhs[i])
				} else if c.names(l, obj) {
					unknown = true // opts, err := options()
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if len(n.Names) == len(n.Values) {
					give(name, n.Values[i])
				} else if len(n.Values) > 0 && c.names(name, obj) {
					unknown = true
				}
			}
		}
		return true
	})
	if unknown {
		return nil
	}
	return elems
}

// names reports whether e names the variable v.
func (c *checker) names(e ast.Expr, v *types.Var) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && c.pass.TypesInfo.ObjectOf(id) == v
}

// recv is the receiver expression of a method call, or nil.
func (c *checker) recv(s *site) ast.Expr {
	if s.expr == nil {
		return nil
	}
	if sel, ok := ast.Unparen(s.expr.Fun).(*ast.SelectorExpr); ok {
		return sel.X
	}
	return nil
}

// noWaitDial reports whether the call's i-th argument, its network, is a
// constant naming one whose dial waits for no peer: a unix socket
// (connecting fails at once when nobody listens), UDP or a raw IP socket
// (connecting sends nothing).
func (c *checker) noWaitDial(s *site, i int) bool {
	if s.expr == nil || i >= len(s.expr.Args) {
		return false
	}
	n, ok := constString(c.pass.TypesInfo, s.expr.Args[i])
	return ok && (strings.HasPrefix(n, "unix") || strings.HasPrefix(n, "udp") || strings.HasPrefix(n, "ip"))
}

// untimedNetDialers returns the net.Dialers built in the package that e
// may hold with neither Timeout nor Deadline.
func (c *checker) untimedNetDialers(e ast.Expr) []bound {
	if e == nil {
		return nil
	}
	return untimedOnly(c.sum.judge(e, netDialerT))
}

// untimedTLSDialers returns the tls.Dialers built in the package that e
// may hold whose NetDialer is missing or has no Timeout.
func (c *checker) untimedTLSDialers(e ast.Expr) []ast.Expr {
	if e == nil {
		return nil
	}
	built, keys := c.hold.origins(e)
	if c.hold.setLater(keys, "NetDialer") {
		return nil
	}
	var bad []ast.Expr
	for _, b := range built {
		if !c.hold.builds(b, "crypto/tls", "Dialer") {
			continue
		}
		nd := fieldValue(b, "NetDialer")
		if (nd == nil && !c.hold.hasField(b, "NetDialer")) || (nd != nil && len(c.untimedNetDialers(nd)) > 0) {
			bad = append(bad, b)
		}
	}
	return bad
}

// handshaken reports whether the connection v is, on every path, one
// that tls.Dial, tls.DialWithDialer or a tls.Dialer returned: those run
// the handshake before they return, so a Handshake on it returns at once
// (the wait is the dial's, judged there).
func handshaken(v ssa.Value, depth int) bool {
	if v == nil || depth > 8 {
		return false
	}
	switch v := v.(type) {
	case *ssa.Extract:
		return handshaken(v.Tuple, depth+1)
	case *ssa.TypeAssert:
		return handshaken(v.X, depth+1)
	case *ssa.ChangeType:
		return handshaken(v.X, depth+1)
	case *ssa.MakeInterface:
		return handshaken(v.X, depth+1)
	case *ssa.Phi:
		for _, e := range v.Edges {
			if _, isNil := e.(*ssa.Const); !isNil && !handshaken(e, depth+1) {
				return false
			}
		}
		return len(v.Edges) > 0
	case *ssa.Call:
		sc := v.Common().StaticCallee()
		if sc == nil {
			return false
		}
		f, _ := sc.Object().(*types.Func)
		return isFunc(f, "crypto/tls", "Dial", "DialWithDialer") || isMethod(f, "crypto/tls", "Dialer", "Dial", "DialContext")
	}
	return false
}

// isHandshake reports whether f is the context-free Handshake of a TLS
// connection: crypto/tls's Conn, or uTLS's Conn and UConn, which mirror
// it.
func isHandshake(f *types.Func) bool {
	return isMethod(f, "crypto/tls", "Conn", "Handshake") || isMethod(f, utlsPkg, "Conn", "Handshake") || isMethod(f, utlsPkg, "UConn", "Handshake")
}

// setsDeadline reports whether fn, or the function it is a literal of,
// calls SetDeadline or SetReadDeadline on anything, itself or through the
// package's functions it calls (an SMTP session's readLine sets one
// before every command): a handshake after one is bounded. The check does
// not tell connections or orders apart, so it errs towards silence.
func setsDeadline(fn *ssa.Function) bool { return setsDeadlineBefore(fn, token.NoPos) }

// setsDeadlineBefore is setsDeadline counting, in fn's own body, only
// the calls written before pos (when pos is valid): a deadline set after
// a handshake (redigo's DialContext runs its AUTH, whose reads have one,
// after the TLS handshake, which has none) does not bound it.
func setsDeadlineBefore(fn *ssa.Function, pos token.Pos) bool {
	own := fn // the functions enclosing it are not ordered
	seen := map[*ssa.Function]bool{}
	var sets func(fn *ssa.Function, depth int) bool
	sets = func(fn *ssa.Function, depth int) bool {
		if fn == nil || seen[fn] || depth > 3 {
			return false
		}
		seen[fn] = true
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				ci, ok := instr.(ssa.CallInstruction)
				if !ok || fn == own && pos.IsValid() && ci.Pos().IsValid() && ci.Pos() >= pos {
					continue
				}
				name := ""
				sc := ci.Common().StaticCallee()
				if ci.Common().IsInvoke() {
					name = ci.Common().Method.Name()
				} else if sc != nil {
					name = sc.Name()
				}
				if name == "SetDeadline" || name == "SetReadDeadline" {
					return true
				}
				if sc != nil && sc.Pkg != nil && sc.Pkg == fn.Pkg && sets(sc, depth+1) {
					return true
				}
			}
		}
		return false
	}
	for ; fn != nil; fn = fn.Parent() {
		if sets(fn, 0) {
			return true
		}
	}
	return false
}

// boundLocally reports whether the method value whose selector is at
// pos is only called in the function that takes it (through local
// variables), each time with a context that is not a background one: a
// dialer picked in a function and dialled there with a bounded context
// (go-mail's dialContextFunc under a WithDeadline context).
func (c *checker) boundLocally(pos token.Pos) bool {
	for _, fn := range c.funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				mc, ok := instr.(*ssa.MakeClosure)
				if !ok || mc.Pos() != pos {
					continue
				}
				var calls []*ssa.CallCommon
				if !c.onlyCalled(mc, &calls, map[ssa.Value]bool{}) || len(calls) == 0 {
					return false
				}
				for _, call := range calls {
					if len(call.Args) == 0 || c.trace(call.Args[0]).bg != nil {
						return false
					}
				}
				return true
			}
		}
	}
	return false
}

// onlyCalled reports whether every use of v, through phis and changes of
// its named type, calls it.
func (c *checker) onlyCalled(v ssa.Value, calls *[]*ssa.CallCommon, seen map[ssa.Value]bool) bool {
	if seen[v] {
		return true
	}
	seen[v] = true
	for _, r := range *v.Referrers() {
		switch r := r.(type) {
		case *ssa.Phi, *ssa.ChangeType: // a ChangeType to a named func type
			if !c.onlyCalled(r.(ssa.Value), calls, seen) {
				return false
			}
		case ssa.CallInstruction:
			if r.Common().Value != v || r.Common().IsInvoke() {
				return false
			}
			*calls = append(*calls, r.Common())
		case *ssa.DebugRef:
		default:
			return false
		}
	}
	return true
}

// dialerValues reports Dial or DialContext of a net.Dialer without
// Timeout taken as a function value ((&net.Dialer{}).DialContext kept in
// a field or handed on): whoever calls it later connects with no bound
// but its context. A value put in an http.Transport's Dial or DialContext
// is left to the HTTP rules: the client's Timeout bounds the connect.
func (c *checker) dialerValues() {
	transportDial := map[ast.Expr]bool{}
	c.inspect(func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CompositeLit:
			if !isNamed(c.typeOf(n), "net/http", "Transport") {
				return true
			}
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					transportDial[ast.Unparen(kv.Value)] = true
				}
			}
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				if sel, ok := ast.Unparen(l).(*ast.SelectorExpr); ok && i < len(n.Rhs) && isNamed(c.typeOf(sel.X), "net/http", "Transport") {
					transportDial[ast.Unparen(n.Rhs[i])] = true
				}
			}
		case *ast.CallExpr:
			transportDial[ast.Unparen(n.Fun)] = true // a call, not a value
		}
		return true
	})
	c.inspect(func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || transportDial[sel] {
			return true
		}
		selection := c.pass.TypesInfo.Selections[sel]
		if selection == nil || selection.Kind() != types.MethodVal {
			return true
		}
		m, _ := selection.Obj().(*types.Func)
		if !isMethod(m, "net", "Dialer", "Dial", "DialContext") || c.boundLocally(sel.Sel.Pos()) {
			return true
		}
		for _, b := range c.untimedNetDialers(sel.X) {
			c.report(sel.Pos(), "%s of a net.Dialer without Timeout (%s) taken as a function value: whoever calls it connects with no bound but the context it passes: %s; set the Dialer's Timeout", m.Name(), c.boundWhere(b), connectWhy)
		}
		return true
	})
}

// smtpNewClient reports whether f is net/smtp's NewClient, which reads
// the server's greeting, or a fork's (a package named smtp whose
// NewClient takes a net.Conn first: go-mail's, maddy's).
func smtpNewClient(f *types.Func) bool {
	if isFunc(f, "net/smtp", "NewClient") {
		return true
	}
	if f == nil || f.Pkg() == nil || f.Pkg().Name() != "smtp" || f.Name() != "NewClient" || f.Signature().Recv() != nil {
		return false
	}
	ps := f.Signature().Params()
	return ps.Len() > 0 && isNamed(ps.At(0).Type(), "net", "Conn")
}

// dnsLookups are net's context-free lookups that ask DNS; resolverMethods
// are net.Resolver's context forms. LookupPort (a services file) and
// ResolveTCPAddr and ResolveUDPAddr (mostly listen addresses) are left
// out.
var (
	dnsLookups      = []string{"LookupHost", "LookupIP", "LookupAddr", "LookupCNAME", "LookupMX", "LookupNS", "LookupSRV", "LookupTXT", "ResolveIPAddr"}
	resolverMethods = []string{"LookupHost", "LookupIP", "LookupIPAddr", "LookupNetIP", "LookupAddr", "LookupCNAME", "LookupMX", "LookupNS", "LookupSRV", "LookupTXT"}
)

func isDNSLookup(f *types.Func) bool { return isFunc(f, "net", dnsLookups...) }

// resolverLookup reports whether s is a lookup of net.Resolver, or of an
// interface of the program's that *net.Resolver implements (a dialer's
// Resolver field, net.DefaultResolver unless set).
func (c *checker) resolverLookup(s *site) bool {
	if isMethod(s.callee, "net", "Resolver", resolverMethods...) {
		return true
	}
	if !s.common.IsInvoke() || !slices.Contains(resolverMethods, s.callee.Name()) {
		return false
	}
	iface, ok := s.common.Value.Type().Underlying().(*types.Interface)
	if !ok {
		return false
	}
	for _, imp := range c.pass.Pkg.Imports() {
		if imp.Path() != "net" {
			continue
		}
		if tn, ok := imp.Scope().Lookup("Resolver").(*types.TypeName); ok {
			return types.Implements(types.NewPointer(tn.Type()), iface)
		}
	}
	return false
}

// resolverForm names the net.Resolver method that does what the
// context-free lookup f does.
func resolverForm(f *types.Func) string {
	switch f.Name() {
	case "ResolveIPAddr":
		return "LookupIPAddr"
	case "LookupIP":
		return "LookupIP (or LookupIPAddr)"
	}
	return f.Name()
}

// constIPLookup reports whether the lookup s resolves a constant that
// needs no DNS: an IP address, "localhost" or "" (ResolveIPAddr's
// second argument, the others' first).
func (c *checker) constIPLookup(s *site) bool {
	i := 0
	if s.callee.Name() == "ResolveIPAddr" {
		i = 1
	}
	if s.expr == nil || i >= len(s.expr.Args) {
		return false
	}
	h, ok := constString(c.pass.TypesInfo, s.expr.Args[i])
	return ok && (h == "" || h == "localhost" || net.ParseIP(h) != nil)
}

// lookupValues reports a context-free lookup taken as a function value
// (lookupHost = net.LookupHost): whoever calls it waits on DNS with
// nothing to cancel it.
func (c *checker) lookupValues() {
	called := map[ast.Expr]bool{}
	c.inspect(func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			called[ast.Unparen(call.Fun)] = true
		}
		return true
	})
	c.inspect(func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || called[sel] {
			return true
		}
		if f, ok := c.pass.TypesInfo.Uses[sel.Sel].(*types.Func); ok && isDNSLookup(f) {
			c.report(sel.Pos(), "net.%s taken as a function value: whoever calls it waits on DNS with no context: %s; use a func that calls net.DefaultResolver.%s with a context that has a deadline", f.Name(), dnsWhy, resolverForm(f))
		}
		return true
	})
}
