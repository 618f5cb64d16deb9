package clientcall

import (
	"context"
	"time"

	"example.com/kvstore"
)

// service keeps its lifetime context, made from context.Background():
// a call on it has no deadline.
type service struct {
	ctx    context.Context
	cancel context.CancelFunc
	c      *kvstore.Client
}

func newService(c *kvstore.Client) *service {
	ctx, cancel := context.WithCancel(context.Background())
	return &service{ctx: ctx, cancel: cancel, c: c}
}

func (s *service) sync() {
	s.c.Get(s.ctx, "k") // want `client call kvstore.Client.Get with a context derived from context.Background\(\) kept in field ctx`
	tctx, cancel := context.WithTimeout(s.ctx, time.Second)
	defer cancel()
	s.c.Get(tctx, "k")
}

// scoped keeps its caller's context: the caller's job.
type scoped struct {
	ctx context.Context
	c   *kvstore.Client
}

func newScoped(ctx context.Context, c *kvstore.Client) *scoped { return &scoped{ctx: ctx, c: c} }

func (s *scoped) sync() { s.c.Get(s.ctx, "k") }

// either is set from a background context in one place and from one
// with a deadline in another: not judged.
type either struct {
	ctx context.Context
	c   *kvstore.Client
}

func (e *either) reset(long bool) {
	if long {
		e.ctx = context.Background()
		return
	}
	e.ctx, _ = context.WithTimeout(context.Background(), time.Second)
}

func (e *either) sync() { e.c.Get(e.ctx, "k") }

// Exported is a field other packages may set.
type Exported struct {
	Ctx context.Context
	C   *kvstore.Client
}

func NewExported(c *kvstore.Client) *Exported { return &Exported{Ctx: context.Background(), C: c} }

func (e *Exported) Sync() { e.C.Get(e.Ctx, "k") }
