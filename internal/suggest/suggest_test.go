package suggest

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"weight", "scheduler", "interval", "on"}
	for _, tc := range []struct{ w, want string }{
		{"wieght", "weight"}, {"shceduler", "scheduler"}, {"intervall", "interval"},
		{"of", "on"}, {"xyz", ""}, {"weightweight", ""},
	} {
		if got, _ := Closest(tc.w, known); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.w, got, tc.want)
		}
	}
	if h := Hint("wieght", known); h != ` (did you mean "weight"?)` {
		t.Errorf("Hint = %q", h)
	}
	if d := Distance("kitten", "sitting"); d != 3 {
		t.Errorf("Distance = %d", d)
	}
}
