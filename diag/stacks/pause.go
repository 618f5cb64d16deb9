package stacks

import (
	"math"
	"runtime/metrics"
	"time"
)

// The runtime's stop-the-world pause histograms, from stopping the world
// to starting it again. "other" counts goroutine profiles, runtime.Stack
// and every other stop that is not the garbage collector's.
const (
	pausesOther = "/sched/pauses/total/other:seconds"
	pausesGC    = "/sched/pauses/total/gc:seconds"
)

// pauseSample is a reading of both pause histograms.
type pauseSample [2]*metrics.Float64Histogram

func readPauses() pauseSample {
	s := []metrics.Sample{{Name: pausesOther}, {Name: pausesGC}}
	metrics.Read(s)
	var p pauseSample
	for i := range s {
		if s[i].Value.Kind() == metrics.KindFloat64Histogram {
			p[i] = s[i].Value.Float64Histogram()
		}
	}
	return p
}

// since returns the longest pause recorded between before and p (the
// upper bound of the highest bucket whose count grew, or its lower bound
// for the open last bucket) and how many pauses were recorded.
func (p pauseSample) since(before pauseSample) (longest time.Duration, n int) {
	for i := range p {
		a, b := before[i], p[i]
		if a == nil || b == nil || len(a.Counts) != len(b.Counts) {
			continue
		}
		for j := range b.Counts {
			d := b.Counts[j] - a.Counts[j]
			if d == 0 {
				continue
			}
			n += int(d)
			edge := b.Buckets[j+1]
			if math.IsInf(edge, 1) {
				edge = b.Buckets[j]
			}
			longest = max(longest, time.Duration(edge*float64(time.Second)))
		}
	}
	return longest, n
}
