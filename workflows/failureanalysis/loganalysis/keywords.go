package loganalysis

// kwSet is a bit set of keyword indexes (at most maxKeywords keywords).
type kwSet [6]uint64

// maxKeywords is the capacity of a kwSet.
const maxKeywords = 64 * len(kwSet{})

func (s *kwSet) set(i int) { s[i>>6] |= 1 << (uint(i) & 63) }
func (s *kwSet) or(o *kwSet) {
	s[0] |= o[0]
	s[1] |= o[1]
	s[2] |= o[2]
	s[3] |= o[3]
	s[4] |= o[4]
	s[5] |= o[5]
}
func (s *kwSet) empty() bool { return s[0]|s[1]|s[2]|s[3]|s[4]|s[5] == 0 }

// outFlag marks a DFA transition into a state that completes at least one keyword.
const outFlag = 1 << 31

// kwMatcher is an ASCII case-insensitive Aho-Corasick automaton compiled to a
// full DFA, used to find in one pass which rule keywords occur in a line. A
// keyword starting with '\n' only matches at the start of the line: scans
// begin in the state reached by reading '\n' from the root.
//
// Bytes that behave alike (a letter in either case, every byte no keyword
// contains) share one column, so a state's row is a few cache lines, not
// 256 entries; transitions hold the offset of the next state's row.
type kwMatcher struct {
	class  [256]uint8
	stride uint32
	delta  []uint32 // row offset of the next state, | outFlag when it completes a keyword
	out    []kwSet  // by state index (row offset / stride)
	start  uint32
}

// newKWMatcher compiles the lower-case keywords into a DFA.
func newKWMatcher(keywords []string) *kwMatcher {
	type node struct {
		next map[byte]int
		fail int
		out  kwSet
	}
	nodes := []node{{next: map[byte]int{}}}
	for i, kw := range keywords {
		s := 0
		for j := 0; j < len(kw); j++ {
			c := lower(kw[j])
			n, ok := nodes[s].next[c]
			if !ok {
				nodes = append(nodes, node{next: map[byte]int{}})
				n = len(nodes) - 1
				nodes[s].next[c] = n
			}
			s = n
		}
		nodes[s].out.set(i)
	}
	if len(nodes) >= 1<<16 {
		panic("loganalysis: too many keyword states")
	}
	full := make([][256]uint16, len(nodes))
	out := make([]kwSet, len(nodes))
	// Breadth-first construction of failure links and the full transition table.
	queue := make([]int, 0, len(nodes))
	for c := 0; c < 256; c++ {
		if n, ok := nodes[0].next[lower(byte(c))]; ok {
			nodes[n].fail = 0
			full[0][c] = uint16(n)
			if !containsInt(queue, n) {
				queue = append(queue, n)
			}
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		nodes[s].out.or(&nodes[nodes[s].fail].out)
		for c := 0; c < 256; c++ {
			lc := lower(byte(c))
			if n, ok := nodes[s].next[lc]; ok {
				if byte(c) == lc {
					nodes[n].fail = int(full[nodes[s].fail][c])
					queue = append(queue, n)
				}
				full[s][c] = uint16(n)
			} else {
				full[s][c] = full[nodes[s].fail][c]
			}
		}
	}
	for s := range nodes {
		out[s] = nodes[s].out
	}
	return compress(full, out, keywords)
}

// compress builds the matcher from the full transition table: one column per
// lower-case byte used by a keyword, one for all other bytes.
func compress(full [][256]uint16, out []kwSet, keywords []string) *kwMatcher {
	m := &kwMatcher{out: out}
	var rep []byte // a byte of each column
	rep = append(rep, 0)
	seen := map[byte]uint8{}
	for _, kw := range keywords {
		for j := 0; j < len(kw); j++ {
			c := lower(kw[j])
			if _, ok := seen[c]; !ok {
				seen[c] = uint8(len(rep))
				rep = append(rep, c)
			}
		}
	}
	if len(rep) > 256 {
		panic("loganalysis: too many keyword bytes")
	}
	for c := 0; c < 256; c++ {
		m.class[c] = seen[lower(byte(c))]
	}
	m.stride = uint32(len(rep))
	m.delta = make([]uint32, len(full)*len(rep))
	for s := range full {
		for k, c := range rep {
			t := uint32(full[s][c])
			next := t * m.stride
			if !out[t].empty() {
				next |= outFlag
			}
			m.delta[uint32(s)*m.stride+uint32(k)] = next
		}
	}
	m.start = uint32(full[0]['\n']) * m.stride
	return m
}

// scan returns the set of keywords found in b.
func (m *kwMatcher) scan(b []byte) kwSet {
	var found kwSet
	st := m.start
	delta, class := m.delta, &m.class
	for _, c := range b {
		st = delta[st+uint32(class[c])]
		if st&outFlag != 0 {
			st &^= outFlag
			found.or(&m.out[st/m.stride])
		}
	}
	return found
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
