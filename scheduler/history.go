package scheduler

// A task whose submit fails every few seconds goes queued → scheduled →
// queued → ... with the same try and the same reasons, and a refused one
// records queued → queued: one row per occurrence would be thousands of
// rows an hour that say nothing new (issue 18). The stores collapse such
// repeats instead: a transition that repeats the instance's last record,
// or the record before it when the two form a cycle, bumps that record's
// Repeats and LastAt. The instance itself is updated (and its version
// increases) as for any transition; only the history row is shared.
//
// Records with Repeats > 0 read as follows, and ExpandHistory turns them
// back into one record per occurrence:
//
//   - a self-transition (queued → queued) with Repeats n happened n+1
//     times in a row;
//   - two records A → B, B → A (one try requeued and submitted again)
//     with Repeats n and m (n = m or m+1) happened alternately, A → B
//     first: n+1 and m+1 times.

// Same reports whether two records say the same thing: same try, states,
// actor, reason, workload and exit code. Times, sequence numbers and
// repeat counts are not compared.
func (t Transition) Same(o Transition) bool {
	return t.Key == o.Key && t.Try == o.Try && t.From == o.From && t.To == o.To && t.Actor == o.Actor &&
		t.Reason == o.Reason && t.ExternalID == o.ExternalID && t.Manual == o.Manual && sameCode(t.ExitCode, o.ExitCode)
}

func sameCode(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// MayRepeat reports whether rec, made from instance before, is a
// transition Collapse may fold into an earlier record: a self-transition
// (a refusal recorded again), a requeue (queued → scheduled), or the
// submit of a requeued try again (scheduled → queued, the try unchanged).
// Nothing else can repeat an earlier record of the same try, so a store
// reads the instance's last records only for these. An operator's
// transitions are never collapsed.
func MayRepeat(before TaskInstance, rec Transition) bool {
	switch {
	case rec.Manual || rec.From == "":
		return false
	case rec.From == rec.To:
		return true
	case rec.From == StateQueued && rec.To == StateScheduled:
		return true
	case rec.From == StateScheduled && rec.To == StateQueued:
		return rec.Try == before.Try
	}
	return false
}

// Collapse decides whether rec repeats one of last, the instance's last
// two records (oldest first; fewer if it has fewer), and returns the index
// in last of the record whose Repeats and LastAt the store bumps instead
// of inserting rec; ok is false when rec must be inserted.
func Collapse(last []Transition, rec Transition) (i int, ok bool) {
	n := len(last)
	if n == 0 {
		return 0, false
	}
	l1 := last[n-1]
	if rec.From == rec.To {
		return n - 1, l1.Same(rec)
	}
	if n < 2 {
		return 0, false
	}
	l2 := last[n-2]
	if l2.From == l2.To || l1.From != l2.To || l1.To != l2.From {
		return 0, false // not a two-record cycle
	}
	switch {
	case l2.Same(rec) && l2.Repeats == l1.Repeats:
		return n - 2, true // A → B again, after B → A
	case l1.Same(rec) && l2.Repeats == l1.Repeats+1:
		return n - 1, true // B → A again, after A → B was bumped
	}
	return 0, false
}

// ExpandHistory returns h with each collapsed record written out once per
// occurrence, in the order they happened, each with Repeats 0. The first
// occurrence keeps the record's At, the later ones carry its LastAt (the
// store keeps no times in between). A history without repeats is
// returned as it is.
func ExpandHistory(h []Transition) []Transition {
	extra := 0
	for _, r := range h {
		extra += r.Repeats
	}
	if extra == 0 {
		return h
	}
	out := make([]Transition, 0, len(h)+extra)
	one := func(r Transition, k int) Transition {
		if k > 0 {
			r.At = r.LastAt
		}
		r.Repeats, r.LastAt = 0, r.At
		return r
	}
	for i := 0; i < len(h); i++ {
		a := h[i]
		if a.Repeats == 0 {
			out = append(out, a)
			continue
		}
		if a.From != a.To && i+1 < len(h) {
			// The first record of a cycle: alternate with its partner.
			// Counts Collapse cannot have made are written out as they
			// say, for a checker to find.
			b := h[i+1]
			for k := 0; k <= max(a.Repeats, b.Repeats); k++ {
				if k <= a.Repeats {
					out = append(out, one(a, k))
				}
				if k <= b.Repeats {
					out = append(out, one(b, k))
				}
			}
			i++
			continue
		}
		for k := 0; k <= a.Repeats; k++ {
			out = append(out, one(a, k))
		}
	}
	return out
}
