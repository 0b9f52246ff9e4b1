package announce

import "time"

// SetRetry sets how soon refused changes are tried again.
func SetRetry(a *Announcer, d time.Duration) { a.retry = d }
