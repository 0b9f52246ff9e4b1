package value

import (
	"math"
	"testing"
	"time"
)

func TestReaders(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{second(String("k", 1.0)), "k must be a string, got number"},
		{second(Int("k", 1.5, 0, 9)), "k must be an integer, got 1.5"},
		{second(Int("k", 10.0, 0, 9)), "k 10 out of range 0..9"},
		{second(Int("k", []any{}, 0, 9)), "k must be an integer, got table"},
		{second(Bool("k", Other("function"))), "k must be true or false, got function"},
		{second(Duration("k", "5x", 0)), `k: invalid duration "5x" (write e.g. "2s", "500ms", "1m30s")`},
		{second(Duration("k", "5ms", 10*time.Millisecond)), "k 5ms is too short (at least 10ms)"},
		{second(Duration("k", nil, 0)), `k must be a duration like "2s", got nil`},
		{second(Duration("k", 1e10, time.Second)), "k 1e+10 s out of range 1s..2562047h47m16s"},
		{second(Duration("k", math.Inf(1), 0)), "k +Inf s out of range 0s..2562047h47m16s"},
		{second(Duration("k", math.NaN(), 0)), "k NaN s out of range 0s..2562047h47m16s"},
		{second(Int("k", math.Inf(-1), 0, 9)), "k -Inf out of range 0..9"},
		{second(Int("k", math.NaN(), 0, 9)), "k must be an integer, got NaN"},
		{second(Seconds("k", "4294967596s", 1, 60)), "k 1193046h33m16s out of range 1s..1m0s"},
		{second(Seconds("k", 4294967297.0, 1, 60)), "k 1193046h28m17s out of range 1s..1m0s"},
		{second(Seconds("k", "1.5s", 1, 60)), "k 1.5s is not a whole number of seconds (1s..1m0s)"},
		{second(Line("k", "a\nb")), `k "a\nb" has a control character (U+000A); write it on one line, without NUL or CR/LF`},
		{second(Line("k", "a\x00b")), `k "a\x00b" has a control character (U+0000); write it on one line, without NUL or CR/LF`},
		{second(Seconds("k", 0.0, 1, 60)), "k 0s out of range 1s..1m0s"},
	} {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("got %v, want %s", tc.err, tc.want)
		}
	}
	if d, err := Duration("k", 1.5, 0); err != nil || d != 1500*time.Millisecond {
		t.Errorf("1.5 s: %v %v", d, err)
	}
	if n, err := Seconds("k", "5m", 1, 3600); err != nil || n != 300 {
		t.Errorf("5m: %v %v", n, err)
	}
	if n, err := Int("k", 9.0, 0, 9); err != nil || n != 9 {
		t.Errorf("9: %v %v", n, err)
	}
}

func second[T any](_ T, err error) error { return err }
