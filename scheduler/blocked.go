package scheduler

import "container/heap"

// Ready instances that found no parallelism slot wait in s.blocked, and in
// blockedQ, one heap per DAG in dispatch order. When slots free, dispatch
// takes only as many as there is room for, each the first of the DAGs that
// still have room (nextBlocked), instead of evaluating every blocked
// instance again: with 100,000 ready tasks and 32 slots that was quadratic
// (issue 18). An instance that is evaluated again for another reason (it
// became a candidate, its run was handed over) leaves s.blocked, and its
// heap entry lapses: an entry counts only while s.blocked holds its seq.

// block adds c to the blocked.
func (s *Scheduler) block(c candidate) {
	s.blockSeq++
	c.seq = s.blockSeq
	s.blocked[c.key] = c.seq
	h := s.blockedQ[c.key.DAGID]
	if h == nil {
		h = &candidateHeap{}
		s.blockedQ[c.key.DAGID] = h
	}
	heap.Push(h, c)
}

// nextBlocked returns the first blocked instance of the DAGs room allows,
// dropping lapsed entries on the way.
func (s *Scheduler) nextBlocked(room func(dagID string) bool) (candidate, bool) {
	var best candidate
	found := false
	for id, h := range s.blockedQ {
		for h.Len() > 0 && s.blocked[(*h)[0].key] != (*h)[0].seq {
			heap.Pop(h)
		}
		if h.Len() == 0 {
			delete(s.blockedQ, id)
			continue
		}
		if top := (*h)[0]; room(id) && (!found || top.before(best)) {
			best, found = top, true
		}
	}
	return best, found
}

// popBlocked removes c, the result of nextBlocked, from the blocked.
func (s *Scheduler) popBlocked(c candidate) candidate {
	heap.Pop(s.blockedQ[c.key.DAGID])
	delete(s.blocked, c.key)
	return c
}
