package keepalived

import (
	"strings"
	"testing"
	"time"
)

// Adversarial inputs stay fast: many errors (suggestions are bounded), one
// line of braces, many definitions.
func TestAdversarialTime(t *testing.T) {
	for name, src := range map[string]string{
		"unknown keywords": strings.Repeat("virtual_server 192.0.2.1 80 {\n"+strings.Repeat("    persistance_timeot 3\n", 50)+"}\n", 2000),
		"open braces":      strings.Repeat("{", 200000),
		"close braces":     strings.Repeat("}\n", 200000),
		"undefined":        strings.Repeat("$A=1\nvrrp_instance $UNDEFINED_NAME_X $B $C\n", 20000),
		"definitions":      strings.Repeat("$A=$B $B $B $B\n$B=$A\nx $A\n", 5000),
	} {
		start := time.Now()
		_, err := Parse("adv.conf", []byte(src), Options{})
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		t.Logf("%s: %v", name, time.Since(start))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}
