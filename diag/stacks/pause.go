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

// pauseDelta is what the pause histograms recorded between two readings.
type pauseDelta struct {
	// longest is the upper bound of the highest bucket whose count grew
	// (its lower bound for the open last bucket).
	longest time.Duration
	// longestOther and longestGC split longest by histogram.
	longestOther, longestGC time.Duration
	// sum is the sum of the pauses' upper bounds: at most a quarter more
	// than the time the world was stopped.
	sum time.Duration
	// n is how many pauses were recorded.
	n int
}

// since returns what was recorded between before and p.
func (p pauseSample) since(before pauseSample) pauseDelta {
	var d pauseDelta
	for i := range p {
		a, b := before[i], p[i]
		if a == nil || b == nil || len(a.Counts) != len(b.Counts) {
			continue
		}
		for j := range b.Counts {
			grew := b.Counts[j] - a.Counts[j]
			if grew == 0 {
				continue
			}
			edge := b.Buckets[j+1]
			if math.IsInf(edge, 1) {
				edge = b.Buckets[j]
			}
			upper := time.Duration(edge * float64(time.Second))
			d.n += int(grew)
			d.sum += time.Duration(grew) * upper
			d.longest = max(d.longest, upper)
			if i == 0 {
				d.longestOther = max(d.longestOther, upper)
			} else {
				d.longestGC = max(d.longestGC, upper)
			}
		}
	}
	return d
}
