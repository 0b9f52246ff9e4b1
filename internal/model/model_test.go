package model

import "testing"

// TestServiceKeySpecRoundTrip: Spec writes what ParseServiceKey reads.
func TestServiceKeySpecRoundTrip(t *testing.T) {
	for _, s := range []string{"198.18.0.10:80", "udp:[2001:db8::1]:53", "sctp:198.18.0.1:9", "fwmark:7", "fwmark6:8"} {
		k, err := ParseServiceKey(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Spec(); got != s {
			t.Errorf("ParseServiceKey(%q).Spec() = %q", s, got)
		}
	}
}
