package local

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStat reads a process's start time (field 22 of /proc/<pid>/stat, in
// clock ticks since boot), state (field 3) and parent (field 4).
func procStat(pid int) (start uint64, state byte, err error) {
	start, state, _, err = procStatFields(pid)
	return start, state, err
}

func procStatFields(pid int) (start uint64, state byte, ppid int, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	// Field 2 is the command name in parentheses and may itself hold spaces
	// and parentheses; the fields after the last ')' are plain.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 > len(data) {
		return 0, 0, 0, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+2:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, 0, fmt.Errorf("parse /proc/%d/stat: %d fields after the name", pid, len(f))
	}
	if start, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return 0, 0, 0, fmt.Errorf("parse /proc/%d/stat start time: %w", pid, err)
	}
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, 0, fmt.Errorf("parse /proc/%d/stat parent: %w", pid, err)
	}
	return start, f[0][0], ppid, nil
}

// sameProcess reports whether pid is still the process that started at
// start, and has not ended. A zombie has ended: after a scheduler crash the
// wrapper may be reparented to a PID 1 that never reaps it.
func sameProcess(pid int, start uint64) bool {
	got, state, err := procStat(pid)
	return err == nil && got == start && state != 'Z' && state != 'X'
}

// execed reports whether the wrapper has handed over to the command: one of
// its children runs another program than the wrapper's own, or it has no
// more to hand over (it ended). Before the exec the forked child is a copy
// of the wrapper, command line included, and would take a SIGTERM with the
// wrapper's handler instead of dying of it.
func execed(wrapper int) bool {
	_, state, err := procStat(wrapper)
	if err != nil || state == 'Z' || state == 'X' {
		return true
	}
	own, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", wrapper))
	if err != nil {
		return true
	}
	for _, c := range children(wrapper) {
		// A child that has ended reads empty, which counts as handed over.
		if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c)); !bytes.Equal(cmdline, own) {
			return true
		}
	}
	return false
}

// children lists a single-threaded process's children, from the kernel's
// list where it keeps one (CONFIG_PROC_CHILDREN), else by scanning /proc.
func children(pid int) []int {
	var kids []int
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err == nil {
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				kids = append(kids, c)
			}
		}
		return kids
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, _, ppid, err := procStatFields(c); err == nil && ppid == pid {
			kids = append(kids, c)
		}
	}
	return kids
}
