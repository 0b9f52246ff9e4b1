package ipvsadm

import (
	"io"
	"strings"
	"testing"

	"github.com/luvs-lb/luvs/internal/bench"
	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

func BenchmarkParse(b *testing.B) {
	rules := bench.Rules(1000, 10)
	for b.Loop() {
		if _, err := Parse("r", strings.NewReader(rules)); err != nil {
			b.Fatal(err)
		}
	}
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
