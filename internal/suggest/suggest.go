// Package suggest finds the known name closest to a mistyped one, for
// "did you mean" hints in configuration errors.
package suggest

import "fmt"

// MaxLen is the longest name that gets a suggestion.
const MaxLen = 64

// Closest returns the name in known nearest to w by edit distance, if it is
// near enough: at most 1 edit for names of up to 4 bytes, else 2.
func Closest(w string, known []string) (string, bool) {
	limit := 2
	if len(w) <= 4 {
		limit = 1
	}
	if len(w) > MaxLen {
		return "", false
	}
	best, bestD := "", limit+1
	for _, k := range known {
		if len(k) > MaxLen || max(len(k)-len(w), len(w)-len(k)) > limit {
			continue // (the distance is at least the difference in length)
		}
		if d := Distance(w, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best, best != ""
}

// Hint is " (did you mean "name"?)" for the closest known name, or "".
func Hint(w string, known []string) string {
	if best, ok := Closest(w, known); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// Distance is the Levenshtein distance between a and b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
