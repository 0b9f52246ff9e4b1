package engine

// Started is closed once Run has adopted the kernel's table, made the first
// apply and started answering requests (the daemon is then ready).
func (e *Engine) Started() <-chan struct{} { return e.running }

// Stopped is closed when Run has returned.
func (e *Engine) Stopped() <-chan struct{} { return e.exited }
