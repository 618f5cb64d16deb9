// Package eventq is the event queue behind every executor's Run.
//
// The scheduler.Executor contract says events produced before Run is called,
// or while the consumer is slow, are kept until they can be delivered, and
// that producing one never blocks: Start runs on the scheduler's own loop,
// which is also the consumer, so a blocking send there would deadlock it.
// A Queue gives executors exactly that: Push never blocks and never drops,
// and Run delivers in order until its context ends.
//
//	var q eventq.Queue
//	q.Push(ev)                        // from Start, a wait goroutine, a timer
//	return q.Run(ctx, events, beat)   // the executor's Run
package eventq

import (
	"context"
	"sync"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

// beatEvery bounds the time between two beats while Run runs. It is half the
// one second the executors promise, so timer jitter cannot break the promise.
const beatEvery = 500 * time.Millisecond

// Queue is an unbounded FIFO of events. The zero value is ready to use.
type Queue struct {
	mu      sync.Mutex
	pending []scheduler.Event
	// ready holds a token while pending may be non-empty, so Run can sleep
	// without polling.
	ready chan struct{}
}

func (q *Queue) readyLocked() chan struct{} {
	if q.ready == nil {
		q.ready = make(chan struct{}, 1)
	}
	return q.ready
}

// Push appends events. It never blocks.
func (q *Queue) Push(evs ...scheduler.Event) {
	q.mu.Lock()
	q.pending = append(q.pending, evs...)
	ready := q.readyLocked()
	q.mu.Unlock()
	select {
	case ready <- struct{}{}:
	default:
	}
}

// Len is the number of events not yet delivered.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

func (q *Queue) pop() (scheduler.Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return scheduler.Event{}, false
	}
	ev := q.pending[0]
	q.pending[0] = scheduler.Event{}
	q.pending = q.pending[1:]
	if len(q.pending) == 0 {
		// Let the backing array go: after a burst of 1,000 starts it would
		// otherwise stay allocated for the life of the process.
		q.pending = nil
	}
	return ev, true
}

// unpop puts back an event Run could not deliver, keeping the order.
func (q *Queue) unpop(ev scheduler.Event) {
	q.mu.Lock()
	q.pending = append([]scheduler.Event{ev}, q.pending...)
	q.mu.Unlock()
}

// Run sends queued events to out, oldest first, until ctx ends; then it
// returns nil and keeps whatever was not delivered for the next Run. beat,
// if not nil, is called on every iteration and at least once a second, also
// while a send waits for a slow consumer. Run is meant to have one caller at
// a time; two would each deliver a share of the events.
func (q *Queue) Run(ctx context.Context, out chan<- scheduler.Event, beat func()) error {
	if beat == nil {
		beat = func() {}
	}
	q.mu.Lock()
	ready := q.readyLocked()
	q.mu.Unlock()
	tick := time.NewTicker(beatEvery)
	defer tick.Stop()
	for {
		beat()
		if ctx.Err() != nil {
			return nil
		}
		ev, ok := q.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-ready:
			case <-tick.C:
			}
			continue
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			q.unpop(ev)
			return nil
		case <-tick.C:
			q.unpop(ev)
		}
	}
}
