package redact

// maxRules bounds the rule set so that a rule bit set is a fixed array.
const maxRules = 512

// ruleBits is a set of rule indices.
type ruleBits [maxRules / 64]uint64

func (b *ruleBits) set(i int)      { b[i>>6] |= 1 << (i & 63) }
func (b *ruleBits) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }

// keyword is a lower-case keyword and the rules it triggers.
type keyword struct {
	word  string
	rules []int
}

// keywordIndex finds, in one pass over a text and without allocating, the rules whose
// keywords occur in it, ignoring ASCII case. Keywords are indexed by their first two bytes.
type keywordIndex struct {
	pairs  [65536 / 64]uint64
	byPair map[uint16][]keyword
	always ruleBits
}

func pairOf(a, b byte) uint16 { return uint16(lowerASCII(a))<<8 | uint16(lowerASCII(b)) }

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func newKeywordIndex(rules []rule) keywordIndex {
	if len(rules) > maxRules {
		panic("redact: too many rules")
	}
	idx := keywordIndex{byPair: map[uint16][]keyword{}}
	words := map[string][]int{}
	var order []string
	for i, r := range rules {
		if len(r.triggers) == 0 {
			idx.always.set(i)
		}
		for _, t := range r.triggers {
			t = string(lowerBytes(t))
			if len(t) < 2 {
				idx.always.set(i)
				continue
			}
			if _, ok := words[t]; !ok {
				order = append(order, t)
			}
			words[t] = append(words[t], i)
		}
	}
	for _, w := range order {
		p := pairOf(w[0], w[1])
		idx.pairs[p>>6] |= 1 << (p & 63)
		idx.byPair[p] = append(idx.byPair[p], keyword{word: w, rules: words[w]})
	}
	return idx
}

func lowerBytes(s string) []byte {
	b := []byte(s)
	for i := range b {
		b[i] = lowerASCII(b[i])
	}
	return b
}

// scan returns the rules triggered by s.
func (idx *keywordIndex) scan(s string) ruleBits {
	hit := idx.always
	for i := 0; i+1 < len(s); i++ {
		p := pairOf(s[i], s[i+1])
		if idx.pairs[p>>6]&(1<<(p&63)) == 0 {
			continue
		}
		for _, k := range idx.byPair[p] {
			if i+len(k.word) <= len(s) && equalFoldASCII(s[i:i+len(k.word)], k.word) {
				for _, r := range k.rules {
					hit.set(r)
				}
			}
		}
	}
	return hit
}

// equalFoldASCII compares a with the lower-case ASCII string lower, ignoring
// ASCII case.
func equalFoldASCII(a, lower string) bool {
	for i := 0; i < len(lower); i++ {
		if lowerASCII(a[i]) != lower[i] {
			return false
		}
	}
	return true
}
