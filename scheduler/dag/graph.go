package dag

import (
	"slices"
	"strings"
)

// checkGraph checks task ids and dependencies: no duplicate ids, no
// dependency on an unknown task or on the task itself, no cycles.
func (r *reader) checkGraph(tasks []Task, nodes []taskNodes) {
	index := map[string]int{} // id -> first task with it
	for i, t := range tasks {
		if t.ID == "" {
			continue
		}
		if first, dup := index[t.ID]; dup {
			r.errorf(nodes[i].id, t.ID, "duplicate task id %q (first defined at line %d); give each task its own id", t.ID, nodes[first].id.Line)
			continue
		}
		index[t.ID] = i
	}
	ids := make([]string, 0, len(index))
	for id := range index {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var set *names
	known := func() *names {
		if set == nil {
			set = newNames(ids)
		}
		return set
	}
	for i, t := range tasks {
		for _, dep := range t.DependsOn {
			at := nodes[i].deps[dep]
			if dep == t.ID {
				r.errorf(at, t.ID, "depends on itself; remove %q from depends_on", dep)
				continue
			}
			if _, ok := index[dep]; ok {
				continue
			}
			switch near := r.suggest(dep, known); {
			case near != "":
				r.errorf(at, t.ID, "depends on unknown task %q; did you mean %q?", dep, near)
			case len(ids) <= maxListed:
				r.errorf(at, t.ID, "depends on unknown task %q; the tasks are %s", dep, strings.Join(ids, ", "))
			default:
				r.errorf(at, t.ID, "depends on unknown task %q; no task of the %d in this DAG has that id, so check the spelling", dep, len(ids))
			}
		}
	}
	for _, cycle := range cycles(tasks, index) {
		first, last := tasks[cycle[0]], tasks[cycle[len(cycle)-2]]
		names := make([]string, len(cycle))
		for i, t := range cycle {
			names[i] = tasks[t].ID
		}
		r.errorf(nodes[cycle[0]].deps[last.ID], first.ID,
			"dependency cycle %s; a task cannot wait for itself, so remove one of these depends_on entries",
			strings.Join(names, " → "))
	}
}

// cycles returns one dependency cycle for every group of tasks that wait
// on each other, as task indexes in the direction work flows, starting
// and ending at the group's first task in the file. It is the shortest
// such cycle, ties broken by file order, so the message is the same on
// every run.
func cycles(tasks []Task, index map[string]int) [][]int {
	down := make([][]int, len(tasks)) // task -> tasks that depend on it, in file order
	for j, t := range tasks {
		if index[t.ID] != j {
			continue // a duplicate id, already reported
		}
		for _, dep := range t.DependsOn {
			if i, ok := index[dep]; ok && i != j {
				down[i] = append(down[i], j)
			}
		}
	}
	var out [][]int
	for _, scc := range components(down) {
		if len(scc) < 2 {
			continue
		}
		in := map[int]bool{}
		for _, v := range scc {
			in[v] = true
		}
		out = append(out, shortestCycle(slices.Min(scc), down, in))
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

// components returns the strongly connected components of the graph
// (Tarjan's algorithm).
func components(down [][]int) [][]int {
	n := len(down)
	idx, low := make([]int, n), make([]int, n)
	onStack := make([]bool, n)
	for i := range idx {
		idx[i] = -1
	}
	var stack []int
	var out [][]int
	next := 0
	var visit func(v int)
	visit = func(v int) {
		idx[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range down[v] {
			if idx[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], idx[w])
			}
		}
		if low[v] != idx[v] {
			return
		}
		var scc []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			scc = append(scc, w)
			if w == v {
				break
			}
		}
		out = append(out, scc)
	}
	for v := range n {
		if idx[v] < 0 {
			visit(v)
		}
	}
	return out
}

// shortestCycle finds, breadth first, the shortest path from start back
// to start inside the component in.
func shortestCycle(start int, down [][]int, in map[int]bool) []int {
	parent := map[int]int{start: -1}
	queue := []int{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range down[v] {
			if w == start {
				path := []int{start}
				for u := v; u != start; u = parent[u] {
					path = append(path, u)
				}
				slices.Reverse(path[1:])
				return append(path, start)
			}
			if _, seen := parent[w]; !seen && in[w] {
				parent[w] = v
				queue = append(queue, w)
			}
		}
	}
	return nil // unreachable: start lies on a cycle of its component
}
