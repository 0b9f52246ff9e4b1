package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/luvs-lb/luvs/internal/engine"
)

// statusEvery is how often the STATUS= line is refreshed without a watchdog.
const statusEvery = 30 * time.Second

// notifier tells systemd what the daemon is doing (sd_notify(3); the unit
// is Type=notify): READY=1 once the first apply is done, RELOADING=1 and
// then READY=1 around each reload, STOPPING=1 when it stops, WATCHDOG=1
// every half WatchdogSec while the engine's loop answers, and a STATUS= line
// ("3 services, 5 of 6 servers up"). Each ping and status is a request to
// the engine's loop (View), so a stuck loop stops pinging and systemd
// restarts the daemon. Without NOTIFY_SOCKET (not started by systemd) the
// notifier is nil and does nothing.
type notifier struct {
	engine   *engine.Engine
	log      *slog.Logger
	watchdog time.Duration // WatchdogSec (0: none)

	mu         sync.Mutex
	ready      bool   // READY=1 sent: reloads are reported from then on
	reloadErr  string // the last reload's error (shown in STATUS=)
	sendFailed bool   // a failure was logged (once)
}

func newNotifier(e *engine.Engine, log *slog.Logger) *notifier {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return nil
	}
	n := &notifier{engine: e, log: log}
	w, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("systemd watchdog: ignoring WATCHDOG_USEC", "err", err)
	}
	n.watchdog = w
	return n
}

// run sends READY=1 once the engine has made its first apply, then pings
// the watchdog and refreshes the status until ctx is done, then sends
// STOPPING=1.
func (n *notifier) run(ctx context.Context) {
	if n == nil {
		return
	}
	select {
	case <-n.engine.Started():
	case <-n.engine.Stopped():
		return // the kernel could not be read at start: luvs exits 1
	case <-ctx.Done():
		n.send(sd.SdNotifyStopping)
		return
	}
	n.mu.Lock()
	n.ready = true
	n.mu.Unlock()
	n.send(sd.SdNotifyReady + "\n" + n.status())
	every, ping := statusEvery, ""
	if n.watchdog > 0 {
		every, ping = n.watchdog/2, sd.SdNotifyWatchdog+"\n"
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			n.send(sd.SdNotifyStopping)
			return
		case <-t.C:
			if st := n.status(); st != "" {
				n.send(ping + st)
			}
		}
	}
}

// reloading is sent as a reload starts: RELOADING=1 with the monotonic
// clock (which systemd 253 and later want with it).
func (n *notifier) reloading() {
	if n == nil || !n.isReady() {
		return
	}
	n.send(sd.SdNotifyReloading + "\n" + sd.SdNotifyMonotonicUsec() + "STATUS=reloading")
}

// reloaded is sent as a reload ends, applied or rejected (the old
// configuration then keeps running: the daemon is ready either way).
func (n *notifier) reloaded(err error) {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.reloadErr = ""
	if err != nil {
		n.reloadErr = firstLine(err)
	}
	n.mu.Unlock()
	if n.isReady() {
		n.send(sd.SdNotifyReady + "\n" + n.status())
	}
}

func (n *notifier) isReady() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ready
}

// status is the STATUS= line: services, servers up of the servers, services
// below their quorum, a rejected last reload. It is "" when the engine has
// stopped.
func (n *notifier) status() string {
	view := n.engine.View()
	if view == nil {
		select {
		case <-n.engine.Stopped():
			return ""
		default:
		}
	}
	servers, up, lost := 0, 0, 0
	for _, sv := range view {
		if sv.QuorumLost {
			lost++
		}
		for _, s := range sv.Servers {
			switch s.State {
			case engine.StateSorry:
				continue
			case engine.StateUp, engine.StateSlowStart:
				up++
			}
			servers++
		}
	}
	st := fmt.Sprintf("STATUS=%d services, %d of %d servers up", len(view), up, servers)
	if lost > 0 {
		st += fmt.Sprintf(", %d below quorum", lost)
	}
	n.mu.Lock()
	if n.reloadErr != "" {
		st += "; last reload rejected (the previous configuration runs): " + n.reloadErr
	}
	n.mu.Unlock()
	return st
}

func (n *notifier) send(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		n.mu.Lock()
		first := !n.sendFailed
		n.sendFailed = true
		n.mu.Unlock()
		if first {
			n.log.Warn("sd_notify failed", "socket", os.Getenv("NOTIFY_SOCKET"), "err", err)
		}
	}
}
