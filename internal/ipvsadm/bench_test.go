package ipvsadm

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/bench"
	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

func BenchmarkParse(b *testing.B) {
	rules := bench.Rules(1000, 10)
	benchParse(b, rules)
}

func BenchmarkList(b *testing.B) {
	st, _ := Parse("r", strings.NewReader(bench.Rules(1000, 10)))
	t := ipvs.FromState(st)
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			List(io.Discard, ipvs.Info{}, t, ListOptions{})
		}
	})
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			Save(io.Discard, t)
		}
	})
}

func BenchmarkPlan(b *testing.B) {
	st, _ := Parse("r", strings.NewReader(bench.Rules(1000, 10)))
	empty := &model.State{}
	b.Run("fromEmpty", func(b *testing.B) {
		for b.Loop() {
			diff.Plan(st, empty, diff.Options{})
		}
	})
	b.Run("noop", func(b *testing.B) {
		for b.Loop() {
			diff.Plan(st, st, diff.Options{})
		}
	})
}

// addDelete returns n -A lines followed by the n matching -D lines (in the
// same order), and, with m > 0, m real servers added and deleted in the first
// service.
func addDelete(n, m int) string {
	var b strings.Builder
	vip := func(i int) string { return fmt.Sprintf("10.%d.%d.%d:%d", i>>16&255, i>>8&255, i&255, 1+i%65535) }
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "-A -t %s -s rr\n", vip(i))
	}
	for j := 0; j < m; j++ {
		fmt.Fprintf(&b, "-a -t %s -r 198.19.%d.%d:%d -m\n", vip(0), j>>8&255, j&255, 1+j>>16)
	}
	for j := 0; j < m; j++ {
		fmt.Fprintf(&b, "-d -t %s -r 198.19.%d.%d:%d\n", vip(0), j>>8&255, j&255, 1+j>>16)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "-D -t %s\n", vip(i))
	}
	return b.String()
}

// BenchmarkParseAddDelete50k replays 50,000 -A lines and the 50,000 matching
// -D lines; parsing must stay linear in the number of lines.
func BenchmarkParseAddDelete50k(b *testing.B) {
	rules := addDelete(50000, 0)
	for b.Loop() {
		st, err := Parse("r", strings.NewReader(rules))
		if err != nil || len(st.Services) != 0 {
			b.Fatal(err, len(st.Services))
		}
	}
}

// BenchmarkParseAddDeleteDests50k adds and deletes 50,000 real servers of one
// service.
func BenchmarkParseAddDeleteDests50k(b *testing.B) {
	rules := addDelete(1, 50000)
	benchParse(b, rules)
}

// BenchmarkListKernelOrder lists a table in the order the kernel returns it:
// services in hash order, each service's real servers newest first.
func BenchmarkListKernelOrder(b *testing.B) {
	st, _ := Parse("r", strings.NewReader(bench.Rules(1000, 10)))
	t := ipvs.FromState(st)
	for i := range t {
		slices.Reverse(t[i].Dests)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			List(io.Discard, ipvs.Info{}, t, ListOptions{})
		}
	})
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			Save(io.Discard, t)
		}
	})
}

// benchParse parses rules once per benchmark iteration.
func benchParse(b *testing.B, rules string) {
	for b.Loop() {
		if _, err := Parse("r", strings.NewReader(rules)); err != nil {
			b.Fatal(err)
		}
	}
}
