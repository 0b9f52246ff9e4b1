package crash

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A panic in a guarded goroutine exits with ExitCode and a stack trace.
func TestGuardExits3(t *testing.T) {
	if os.Getenv("LUVS_CRASH_TEST") == "1" {
		done := make(chan struct{})
		go func() {
			defer Guard()
			var s []int
			_ = s[len(os.Args)] // out of range: a runtime panic
			close(done)
		}()
		<-done
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGuardExits3$")
	cmd.Env = append(os.Environ(), "LUVS_CRASH_TEST=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitCode {
		t.Fatalf("exit %v, want %d\n%s", err, ExitCode, out)
	}
	if !strings.Contains(string(out), "luvs: internal error: runtime error: index out of range") || !strings.Contains(string(out), "crash_test.go") {
		t.Errorf("no message and stack:\n%s", out)
	}
}
