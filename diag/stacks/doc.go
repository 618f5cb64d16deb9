// Package stacks takes goroutine stacks grouped by identical stack and
// labels, without stopping the world for the length of the dump, and says
// how long each group has waited where that is known.
//
// # Why not runtime.Stack
//
// runtime.Stack(buf, true) and the goroutine profile at debug=2 (the
// "goroutine 12 [chan receive, 5 minutes]:" text) stop every goroutine for
// the whole dump: at 100,000 goroutines that is about a second, during
// which the scheduler loop, its health probe and every in-flight request
// stand still. The goroutine profile at debug=0 (protobuf) is collected
// concurrently instead: the runtime stops the world twice, briefly and
// for a time that does not grow with the number of goroutines, and
// records each goroutine's stack while the program runs. Capture builds
// its grouped snapshot from that profile:
//
//	snap, err := stacks.Capture(stacks.Options{Calls: reg.Snapshot, Tracker: tracker})
//	if err != nil { ... }
//	err = snap.WriteText(w, stacks.TextOptions{MinWait: 30 * time.Second})
//
// which prints, biggest group first,
//
//	3 goroutines [IO wait, wait 41s (inflight)] labels loop=scheduler dag=etl
//	  calls 17 18 21
//	  internal/poll.runtime_pollWait
//	      /usr/local/go/src/runtime/netpoll.go:351
//	  ...
//
// Snapshot.Pause is the longest stop-the-world pause the runtime recorded
// while Capture ran (see "Measuring the pause" below), so every snapshot
// carries the proof of its own cost.
//
// # What a group knows
//
// A Group is a set of goroutines with the same stack (function, file and
// line of every frame, innermost first) and the same pprof labels (loop,
// phase, dag, run, task: see the scheduler's labels). Goroutines of two
// different DAGs blocked on the same line are two groups.
//
// State is what the goroutines are doing. The profile carries no wait
// reason, so for Capture and ParseProfile it is INFERRED from the
// runtime and standard-library functions at the top of the stack, with
// the runtime's own words: "chan receive", "chan send", "select", "IO wait"
// (internal/poll.runtime_pollWait), "sync.Mutex.Lock", "sync.Cond.Wait",
// "sync.WaitGroup.Wait", "sleep", "syscall", "GC worker (idle)", ... and
// "running/runnable" when the top frame is not a parking function. For
// Parse it is the wait reason the runtime printed.
//
// Wait is how long the goroutines have waited, and how that is known:
//
//   - "inflight": exact. The group's goroutines are inside calls
//     registered with diag/inflight (Options.Calls), whose start time is
//     known; Min and Max are the ages of the youngest and the oldest
//     matched call, and Group.Calls lists their IDs.
//   - "seen": a lower bound. A Tracker has seen this group, with at least
//     this many goroutines, in every snapshot since Min ago. A group whose
//     count dropped starts again from zero, since the goroutines that left
//     may have been the old ones.
//   - "runtime": from a text dump (Parse): the whole minutes the runtime
//     printed in the goroutine header. The runtime stamps the start of a
//     wait at the first garbage collection after it, so these too are
//     lower bounds; waits under a minute print nothing.
//   - "": unknown.
//
// # Matching in-flight calls
//
// An in-flight call records its goroutine's stack at Begin, from Begin's
// caller outward. While the call runs, that caller is still on the
// goroutine's stack (the call ends in its deferred end()), at the same
// place in the outer frames but usually at a later line. A call matches a
// group when, aligned from the outermost frame:
//
//   - every frame of the call but the first equals the group's frame at
//     the same depth in function name and line, over all the frames both
//     stacks have (either may be truncated: the registry keeps 48 frames,
//     the profile 128);
//   - the call's first frame (Begin's caller) is the same function, at any
//     line;
//   - at least 3 frames are shared this way (all of them for a shorter
//     call stack);
//   - and, when both have labels, they agree on every key they share and
//     share at least one. (A call's labels are those of its context; the
//     goroutine's are those it was last labelled with, which need not be
//     the same set.)
//
// A call is matched to at most one group and a group takes at most Count
// calls; among several candidates the call goes to the group that is at
// or after Begin's line in Begin's caller, then to the one sharing more
// frames. Calls that began after the profile was taken match nothing.
//
// # Measuring the pause
//
// The runtime keeps histograms of its stop-the-world pauses in
// runtime/metrics: /sched/pauses/total/other:seconds (goroutine profiles,
// runtime.Stack and other non-GC stops) and /sched/pauses/total/gc:seconds.
// Capture reads both before and after it collects the profile, takes the
// highest bucket whose count grew and reports that bucket's upper bound.
// Buckets are 4 per power of two, so Pause overstates the longest pause
// by at most a quarter; it includes pauses of anything else that stopped
// the world meanwhile (a GC), so it is an upper bound on Capture's own.
// Snapshot.Pauses is how many pauses were recorded.
//
// # Reading dumps from elsewhere
//
// Parse reads the runtime's own text (a panic, SIGQUIT output,
// runtime.Stack(buf, true), /debug/pprof/goroutine?debug=2) and
// ParseProfile a goroutine profile in protobuf form (what
// /debug/pprof/goroutine serves), so `diag stacks` can group the stacks
// of a remote scheduler or a crash log the same way. Parse bounds the
// memory it uses (see ErrTooLarge) and never panics on any input.
//
// # Cost
//
// At 100,000 goroutines parked across a few stacks, Capture takes 0.25 to
// 0.35 s on two cores, almost all of it inside runtime/pprof: walking the
// stacks concurrently, then keying each goroutine's stack and labels. The
// goroutine profile itself stops the world twice for well under a
// millisecond (tens to a few hundred microseconds); the 66 MB it
// allocates usually brings on one GC cycle, whose pauses fall in the same
// window. runtime.Stack(buf, true) at the same size stops the world for
// 0.5 to 1 s in one piece. BenchmarkCapture100k and
// BenchmarkRuntimeStackAll100k measure both on your machine:
//
//	go test -run '^$' -bench 100k -benchtime 10x ./diag/stacks/
package stacks
