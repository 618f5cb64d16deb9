package stacks

import "strings"

// States inferred for goroutines that are not parked.
const (
	StateRunning = "running/runnable"
	StateSyscall = "syscall"
	// StateWaiting is a parked goroutine whose reason is not recognized.
	StateWaiting = "waiting"
)

// stateWindow is how many frames below the parking call are searched for
// the function that parked: runtime.gopark, a runtime helper or two, the
// blocking operation.
const stateWindow = 8

// inferState classifies a goroutine from its top frames, using the
// runtime's wait-reason words. The goroutine profile carries no wait
// reason, so this is a best effort: a parked goroutine's stack starts in
// runtime.gopark, and the function below it says what it waits for; a
// goroutine in a system call starts in the syscall package; anything else
// was running or runnable when it was recorded.
func inferState(stack []Frame) string {
	if len(stack) == 0 {
		return ""
	}
	window := stack[:min(len(stack), stateWindow)]
	switch stack[0].Func {
	case "runtime.gopark", "runtime.goparkunlock":
		for _, f := range window[1:] {
			if s := waitState(f.Func); s != "" {
				return s
			}
		}
		for _, f := range window[1:] {
			if f.Func == "runtime.semacquire1" || f.Func == "runtime.semacquire" {
				return "semacquire"
			}
		}
		return StateWaiting
	}
	for _, f := range window {
		if isSyscall(f.Func) {
			return StateSyscall
		}
	}
	return StateRunning
}

// waitState is the wait reason a parked goroutine has when fn is on its
// stack just below runtime.gopark, or "".
func waitState(fn string) string {
	switch fn {
	case "runtime.chanrecv", "runtime.chanrecv1", "runtime.chanrecv2":
		return "chan receive"
	case "runtime.chansend", "runtime.chansend1":
		return "chan send"
	case "runtime.selectgo":
		return "select"
	case "runtime.block":
		return "select (no cases)"
	case "runtime.netpollblock", "internal/poll.runtime_pollWait":
		return "IO wait"
	case "time.Sleep", "runtime.timeSleep":
		return "sleep"
	case "sync.runtime_SemacquireMutex", "internal/sync.runtime_SemacquireMutex",
		"sync.(*Mutex).Lock", "internal/sync.(*Mutex).lockSlow":
		return "sync.Mutex.Lock"
	case "sync.runtime_SemacquireRWMutexR", "sync.(*RWMutex).RLock":
		return "sync.RWMutex.RLock"
	case "sync.runtime_SemacquireRWMutex", "sync.(*RWMutex).Lock":
		return "sync.RWMutex.Lock"
	case "sync.runtime_notifyListWait", "sync.(*Cond).Wait":
		return "sync.Cond.Wait"
	case "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait":
		return "sync.WaitGroup.Wait"
	case "runtime.gcBgMarkWorker":
		return "GC worker (idle)"
	case "runtime.bgsweep":
		return "GC sweep wait"
	case "runtime.bgscavenge":
		return "GC scavenge wait"
	case "runtime.forcegchelper":
		return "force gc (idle)"
	case "runtime.runfinq":
		return "finalizer wait"
	case "runtime.runCleanups", "runtime.(*cleanupQueue).dequeue":
		return "cleanup wait"
	case "runtime.updateMaxProcsGoroutine":
		return "GOMAXPROCS updater (idle)"
	}
	return ""
}

func isSyscall(fn string) bool {
	for _, p := range []string{"syscall.Syscall", "syscall.RawSyscall", "syscall.syscall", "syscall.rawSyscall",
		"internal/runtime/syscall.Syscall", "golang.org/x/sys/unix.Syscall", "golang.org/x/sys/unix.RawSyscall",
		"runtime.cgocall", "runtime.asmcgocall", "runtime.entersyscall", "runtime.exitsyscall"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}
