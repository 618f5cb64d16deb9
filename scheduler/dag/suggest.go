package dag

import "strings"

// Suggestions ("did you mean ...?") for misspelt keys and task ids.
//
// One search compares a name with every task id, and a file can name
// thousands of unknown tasks: a 350 KB file with 5,000 unknown
// dependencies took 2.5 minutes and 2.3 GB to parse (issue 16). So the
// work for one file is bounded:
//   - the candidates are folded and grouped by length once per set, not
//     once per comparison;
//   - a name is compared only with candidates within maxTypo bytes of its
//     length, the only ones that can be near enough;
//   - a file gets at most maxSuggestions searches; later problems are
//     reported without a suggestion;
//   - "the tasks are ..." lists at most maxListed ids.
const (
	// maxTypo is the largest edit distance read as a typo.
	maxTypo = 2
	// maxSuggestions bounds the searches one file gets.
	maxSuggestions = 20
	// maxListed bounds the task ids a message lists.
	maxListed = 20
	// maxNameLen is the longest name compared; a typo of a key or an id
	// (at most 63 characters) is never longer.
	maxNameLen = 64
)

// names is a set of candidates, indexed for closest.
type names struct {
	list   []string
	folded map[string]int // fold(name) → index of the first name with it
	byLen  map[int][]int  // length → indexes, in list order
}

func newNames(list []string) *names {
	n := &names{list: list, folded: make(map[string]int, len(list)), byLen: map[int][]int{}}
	for i, c := range list {
		if _, dup := n.folded[fold(c)]; !dup {
			n.folded[fold(c)] = i
		}
		n.byLen[len(c)] = append(n.byLen[len(c)], i)
	}
	return n
}

// fold ignores case, '_' and '-', so dependsOn and depends-on both find
// depends_on.
func fold(s string) string {
	s = strings.ToLower(s)
	if !strings.ContainsAny(s, "_-") {
		return s
	}
	return strings.NewReplacer("_", "", "-", "").Replace(s)
}

// closest returns the candidate nearest to s, or "" when none is near
// enough to be a plausible typo, and how many candidates it computed an
// edit distance for. A candidate equal to s once folded wins; then the
// smallest edit distance, the first in list order on a tie.
func (n *names) closest(s string) (near string, compared int) {
	if i, ok := n.folded[fold(s)]; ok {
		return n.list[i], 0
	}
	low := strings.ToLower(s)
	if len(low) > maxNameLen {
		return "", 0
	}
	best, bestDist := -1, maxTypo+1
	for l := len(low) - maxTypo; l <= len(low)+maxTypo; l++ {
		for _, i := range n.byLen[l] {
			c := n.list[i]
			compared++
			d := editDistance(low, c)
			if d > max(len(s), len(c))/2 {
				continue
			}
			if d < bestDist || d == bestDist && i < best {
				best, bestDist = i, d
			}
		}
	}
	if best < 0 {
		return "", compared
	}
	return n.list[best], compared
}

// closest returns the candidate nearest to s, or "" when none is near
// enough to be a plausible typo.
func closest(s string, candidates []string) string {
	near, _ := newNames(candidates).closest(s)
	return near
}

// suggest returns the candidate nearest to s, or "" when none is near or
// the file has used its searches. set builds the candidates; it is called
// only when a search is made.
func (r *reader) suggest(s string, set func() *names) string {
	if r.searches >= maxSuggestions {
		return ""
	}
	r.searches++
	near, n := set().closest(s)
	r.compared += n
	return near
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > maxNameLen || len(b) > maxNameLen {
		// A typo of a short key is never this long; skip the quadratic work.
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest returns the candidate s is most likely a typo of (case, '_'
// and '-' aside, then at most two edits), or "" when none is near: the
// "did you mean" of DAG files, for other files' keys and values (the
// scheduler's config file).
func Closest(s string, candidates []string) string { return closest(s, candidates) }
