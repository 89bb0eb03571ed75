package loganalysis

// kwSet is a bit set of keyword indexes (at most maxKeywords keywords).
type kwSet [6]uint64

// maxKeywords is the capacity of a kwSet.
const maxKeywords = 64 * len(kwSet{})

func (s *kwSet) set(i int)      { s[i>>6] |= 1 << (uint(i) & 63) }
func (s *kwSet) has(i int) bool { return s[i>>6]&(1<<(uint(i)&63)) != 0 }
func (s *kwSet) or(o *kwSet) {
	s[0] |= o[0]
	s[1] |= o[1]
	s[2] |= o[2]
	s[3] |= o[3]
	s[4] |= o[4]
	s[5] |= o[5]
}
func (s *kwSet) empty() bool { return s[0]|s[1]|s[2]|s[3]|s[4]|s[5] == 0 }

// outFlag marks a DFA state that completes at least one keyword.
const outFlag = 0x8000

// kwMatcher is an ASCII case-insensitive Aho-Corasick automaton compiled to a
// full DFA, used to find in one pass which rule keywords occur in a line. A
// keyword starting with '\n' only matches at the start of the line: scans
// begin in the state reached by reading '\n' from the root.
type kwMatcher struct {
	delta [][256]uint16
	out   []kwSet
	start uint16
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
	if len(nodes) >= outFlag {
		panic("loganalysis: too many keyword states")
	}
	m := &kwMatcher{delta: make([][256]uint16, len(nodes)), out: make([]kwSet, len(nodes))}
	// Breadth-first construction of failure links and the full transition table.
	queue := make([]int, 0, len(nodes))
	for c := 0; c < 256; c++ {
		if n, ok := nodes[0].next[lower(byte(c))]; ok {
			nodes[n].fail = 0
			m.delta[0][c] = uint16(n)
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
					nodes[n].fail = int(m.delta[nodes[s].fail][c] &^ outFlag)
					queue = append(queue, n)
				}
				m.delta[s][c] = uint16(n)
			} else {
				m.delta[s][c] = m.delta[nodes[s].fail][c] &^ outFlag
			}
		}
	}
	for s := range nodes {
		m.out[s] = nodes[s].out
	}
	// Tag transitions into output states so the scan loop tests one bit.
	for s := range m.delta {
		for c := 0; c < 256; c++ {
			t := m.delta[s][c]
			if !m.out[t].empty() {
				m.delta[s][c] = t | outFlag
			}
		}
	}
	m.start = m.delta[0]['\n'] &^ outFlag
	return m
}

// scan returns the set of keywords found in b.
func (m *kwMatcher) scan(b []byte) kwSet {
	var found kwSet
	st := m.start
	delta := m.delta
	for _, c := range b {
		st = delta[st&^outFlag][c]
		if st&outFlag != 0 {
			found.or(&m.out[st&^outFlag])
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
