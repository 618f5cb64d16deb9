package stacks

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrTooLarge is returned, wrapped, by Parse when a dump exceeds the
// limits that bound its memory: more than 262,144 distinct groups, 4M
// frames across them, or 64 MiB of distinct function and file names.
// Parse then returns the groups read so far with the error.
var ErrTooLarge = errors.New("goroutine dump too large")

// limits bound what Parse keeps. A dump of 100,000 goroutines has a few
// thousand distinct stacks; the defaults leave room for a hundred times
// that while keeping a hostile input to a few hundred megabytes.
type limits struct {
	lineBytes    int // longer lines are cut
	frames       int // per goroutine; the runtime prints at most 100 and markers
	groups       int
	storedFrames int // across all groups
	stringBytes  int // distinct names
}

func defaultLimits() limits {
	return limits{lineBytes: 64 << 10, frames: 1024, groups: 1 << 18, storedFrames: 1 << 22, stringBytes: 64 << 20}
}

// maxIDs is how many goroutine IDs a group keeps.
const maxIDs = 8

// Parse reads a goroutine dump in the runtime's text form (panic and
// SIGQUIT output, runtime.Stack(buf, true), /debug/pprof/goroutine?debug=2)
// and groups identical goroutines: same frames, creator, labels, state and
// thread lock. Function arguments, program-counter offsets and goroutine
// IDs do not split groups.
//
// It understands headers such as
//
//	goroutine 12 [chan receive, 5 minutes]:
//	goroutine 7 gp=0xc000007a40 m=nil [select, 12 minutes, locked to thread]:
//	goroutine 9 [IO wait labels:{"loop": "scheduler", "dag": "etl"}]:
//
// (labels appear with GODEBUG=tracebacklabels=1), "created by f in
// goroutine 1" lines, "...additional frames elided..." and "...N frames
// elided..." markers (kept as frames whose Func is the marker), and
// ignores the lines around the dump (panic messages, signal lines, log
// output) and ancestor traces ("[originating from goroutine N]:").
// Wait comes from the minutes in the headers (Source "runtime").
//
// Parse never panics, and bounds its memory on any input (ErrTooLarge).
func Parse(r io.Reader) (*Snapshot, error) {
	return parse(r, defaultLimits())
}

func parse(r io.Reader, lim limits) (*Snapshot, error) {
	p := &parser{
		lim:   lim,
		strs:  map[string]string{},
		index: map[string]int{},
		snap:  &Snapshot{},
	}
	br := bufio.NewReaderSize(r, 4096)
	for lineNo := 1; ; lineNo++ {
		line, err := p.readLine(br)
		if len(line) > 0 || err == nil {
			if perr := p.line(line); perr != nil {
				p.finish()
				p.snap.sort()
				return p.snap, fmt.Errorf("line %d: %w", lineNo, perr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			p.finish()
			p.snap.sort()
			return p.snap, fmt.Errorf("read goroutine dump: %w", err)
		}
	}
	if err := p.finish(); err != nil {
		p.snap.sort()
		return p.snap, err
	}
	p.snap.sort()
	return p.snap, nil
}

// readLine returns the next line without its end of line, cut to
// lim.lineBytes. The line is valid until the next call.
func (p *parser) readLine(br *bufio.Reader) ([]byte, error) {
	p.lineBuf = p.lineBuf[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if room := p.lim.lineBytes - len(p.lineBuf); room > 0 {
			p.lineBuf = append(p.lineBuf, chunk[:min(len(chunk), room)]...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return trimEOL(p.lineBuf), err
		}
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// goroutine is the goroutine being read.
type goroutine struct {
	id      uint64
	state   string
	minutes int64
	locked  bool
	labels  map[string]string
	stack   []Frame
	created *Frame
	// pending is a function line waiting for its file line; inCreated
	// says it is the "created by" one.
	pending   string
	inPending bool
	inCreated bool
	// skip is set after "[originating from goroutine N]:" (ancestors).
	skip bool
}

type parser struct {
	lim      limits
	cur      *goroutine
	strs     map[string]string // interned names
	strBytes int
	index    map[string]int // group key → index in snap.Groups
	stored   int            // frames kept across groups
	snap     *Snapshot
	waits    []waitAcc // per group
	tooLarge bool
	keyBuf   []byte
	lineBuf  []byte
}

// waitAcc accumulates the minutes of a group's goroutines.
type waitAcc struct {
	min, max int64
	any      bool
}

func (p *parser) line(b []byte) error {
	if g, ok := parseHeader(b); ok {
		if err := p.finish(); err != nil {
			return err
		}
		p.cur = g
		return nil
	}
	g := p.cur
	if g == nil {
		return nil
	}
	if len(b) == 0 {
		return p.finish()
	}
	if g.skip {
		return nil
	}
	if b[0] == '\t' || b[0] == ' ' {
		s := strings.TrimLeft(string(b), " \t")
		if !g.inPending {
			// "goroutine running on other thread; stack unavailable", or
			// noise.
			return nil
		}
		file, line := parseFileLine(s)
		p.addFrame(g, Frame{Func: g.pending, File: p.intern(file), Line: line})
		return nil
	}
	s := string(b)
	p.flushPending(g)
	switch {
	case strings.HasPrefix(s, "[originating from goroutine "):
		g.skip = true
	case strings.HasPrefix(s, "...") && strings.HasSuffix(s, "elided..."):
		p.addFrame(g, Frame{Func: p.intern(s)})
	case strings.HasPrefix(s, "created by "):
		fn := strings.TrimPrefix(s, "created by ")
		if i := strings.Index(fn, " in goroutine "); i >= 0 {
			fn = fn[:i]
		}
		g.pending, g.inPending, g.inCreated = p.intern(fn), true, true
	case strings.HasPrefix(s, "non-Go function"):
		p.addFrame(g, Frame{Func: p.intern(s)})
	default:
		fn := funcName(s)
		if strings.ContainsAny(fn, " \t") {
			// Not a frame: the dump is over ("exit status 2", a log line).
			return p.finish()
		}
		g.pending, g.inPending, g.inCreated = p.intern(fn), true, false
	}
	return nil
}

// flushPending keeps a function line that came without its file line.
func (p *parser) flushPending(g *goroutine) {
	if g.inPending {
		p.addFrame(g, Frame{Func: g.pending})
	}
}

func (p *parser) addFrame(g *goroutine, f Frame) {
	if g.inPending && g.inCreated {
		g.created = &f
	} else if len(g.stack) < p.lim.frames {
		g.stack = append(g.stack, f)
	}
	g.pending, g.inPending, g.inCreated = "", false, false
}

// finish adds the goroutine being read to its group.
func (p *parser) finish() error {
	g := p.cur
	if g == nil {
		return nil
	}
	p.cur = nil
	p.flushPending(g)
	if p.tooLarge {
		return ErrTooLarge
	}
	key := p.groupKey(g)
	gi, ok := p.index[string(key)]
	if !ok {
		if len(p.snap.Groups) >= p.lim.groups || p.stored+len(g.stack) > p.lim.storedFrames {
			p.tooLarge = true
			return ErrTooLarge
		}
		gi = len(p.snap.Groups)
		p.index[string(key)] = gi
		p.stored += len(g.stack)
		p.snap.Groups = append(p.snap.Groups, Group{
			Stack:     g.stack,
			CreatedBy: g.created,
			Labels:    g.labels,
			State:     p.intern(g.state),
			Locked:    g.locked,
		})
		p.waits = append(p.waits, waitAcc{min: g.minutes, max: g.minutes})
	}
	grp := &p.snap.Groups[gi]
	grp.Count++
	if len(grp.IDs) < maxIDs {
		grp.IDs = append(grp.IDs, g.id)
	}
	p.snap.Goroutines++
	w := &p.waits[gi]
	w.min, w.max = min(w.min, g.minutes), max(w.max, g.minutes)
	w.any = w.any || g.minutes > 0
	if w.any {
		grp.Wait = Wait{Min: time.Duration(w.min) * time.Minute, Max: time.Duration(w.max) * time.Minute, Source: WaitRuntime}
	}
	return nil
}

func (p *parser) groupKey(g *goroutine) []byte {
	k := p.keyBuf[:0]
	add := func(f Frame) {
		k = append(k, f.Func...)
		k = append(k, 0)
		k = append(k, f.File...)
		k = append(k, 0)
		k = strconv.AppendInt(k, f.Line, 10)
		k = append(k, 0)
	}
	for _, f := range g.stack {
		add(f)
	}
	k = append(k, 1)
	if g.created != nil {
		add(*g.created)
	}
	k = append(k, 1)
	k = append(k, labelKey(g.labels)...)
	k = append(k, 1)
	k = append(k, g.state...)
	if g.locked {
		k = append(k, 1)
	}
	p.keyBuf = k
	return k
}

// intern returns one copy of each distinct name, so that a dump of many
// goroutines costs memory per distinct frame, not per frame.
func (p *parser) intern(s string) string {
	if v, ok := p.strs[s]; ok {
		return v
	}
	if p.strBytes+len(s) > p.lim.stringBytes {
		p.tooLarge = true
		return ""
	}
	s = strings.Clone(s)
	p.strs[s] = s
	p.strBytes += len(s)
	return s
}

// parseHeader parses "goroutine N [...]:" (with optional gp=, m= and
// mp= fields before the bracket).
func parseHeader(b []byte) (*goroutine, bool) {
	s := string(trimEOL(b))
	rest, ok := strings.CutPrefix(s, "goroutine ")
	if !ok || !strings.HasSuffix(rest, "]:") {
		return nil, false
	}
	sp := strings.IndexByte(rest, ' ')
	if sp <= 0 {
		return nil, false
	}
	id, err := strconv.ParseUint(rest[:sp], 10, 64)
	if err != nil {
		return nil, false
	}
	open := strings.Index(rest, "[")
	if open < sp {
		return nil, false
	}
	for _, field := range strings.Fields(rest[sp:open]) {
		if !strings.HasPrefix(field, "gp=") && !strings.HasPrefix(field, "m=") && !strings.HasPrefix(field, "mp=") {
			return nil, false
		}
	}
	g := &goroutine{id: id}
	in := rest[open+1 : len(rest)-len("]:")]
	if i := strings.Index(in, " labels:{"); i >= 0 && strings.HasSuffix(in, "}") {
		g.labels = parseLabels(in[i+len(" labels:{") : len(in)-1])
		in = in[:i]
	}
	parts := strings.Split(in, ", ")
	g.state = parts[0]
	for _, part := range parts[1:] {
		switch {
		case part == "locked to thread":
			g.locked = true
		case strings.HasSuffix(part, " minutes"):
			if n, err := strconv.ParseInt(strings.TrimSuffix(part, " minutes"), 10, 64); err == nil && n >= 0 && n < 1<<30 {
				g.minutes = n
			}
		}
	}
	return g, true
}

// parseLabels parses `"k": "v", "k2": "v2"` as the runtime prints it; it
// keeps what it can read.
func parseLabels(s string) map[string]string {
	l := map[string]string{}
	for s != "" {
		k, rest, ok := unquotePrefix(s)
		if !ok {
			break
		}
		rest, ok = strings.CutPrefix(rest, ": ")
		if !ok {
			break
		}
		v, rest, ok := unquotePrefix(rest)
		if !ok {
			break
		}
		l[k] = v
		s = strings.TrimPrefix(rest, ", ")
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

func unquotePrefix(s string) (v, rest string, ok bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, false
	}
	v, err = strconv.Unquote(q)
	if err != nil {
		return "", s, false
	}
	return v, s[len(q):], true
}

// funcName strips the argument list from a frame's function line:
// "main.(*T).m(0xc000010000, {0x4a5b20?, 0x1})" → "main.(*T).m".
func funcName(s string) string {
	if !strings.HasSuffix(s, ")") {
		return s
	}
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				if i == 0 {
					return s
				}
				return s[:i]
			}
		}
	}
	return s
}

// parseFileLine parses "/src/x.go:12 +0x1d fp=0x… sp=0x… pc=0x…" into
// the file and the line.
func parseFileLine(s string) (string, int64) {
	if i := strings.Index(s, " fp="); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, " +0x"); i >= 0 {
		s = s[:i]
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0
	}
	n, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil || n < 0 {
		return s, 0
	}
	return s[:i], n
}
