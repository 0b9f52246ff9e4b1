package check

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// smtpChecker is keepalived's SMTP_CHECK: read the server's 220 greeting,
// say HELO and expect 250, then QUIT.
type smtpChecker struct{ helo string }

// defaultHelo is the name sent with HELO when helo is not set.
const defaultHelo = "localhost"

var smtpSpec = &Spec{
	Kind: model.CheckSMTP, Doc: "Greets a mail server: 220 greeting, HELO answered with 250, QUIT.",
	Settings: []Setting{
		stringSetting("helo", "string", "`\"localhost\"`", "Name sent with HELO (keepalived's `helo_name`).",
			func(c *model.Check) *string { return &c.SMTP.Helo }),
	},
	part: func(c *model.Check) {
		if c.SMTP == nil {
			c.SMTP = &model.SMTPCheck{}
		}
	},
	build: func(c model.Check) (prober, Problems) {
		helo := c.SMTP.Helo
		if helo == "" {
			helo = defaultHelo
		}
		return &smtpChecker{helo: helo}, nil
	},
}

func (s *smtpChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	conn, err := dialerFor(t, "tcp").DialContext(ctx, "tcp", t.String())
	if err != nil {
		return down(errMsg(ctx, err, start))
	}
	defer closeRST(conn)
	stop := watchConn(ctx, conn)
	defer stop()
	if err := conn.SetDeadline(deadlineFrom(ctx)); err != nil {
		return down(err.Error())
	}
	tp := textproto.NewConn(conn)
	step := func(what string, code int) error {
		if _, _, err := tp.ReadResponse(code); err != nil {
			var pe *textproto.Error
			if errors.As(err, &pe) {
				return fmt.Errorf("%s: %d %s", what, pe.Code, pe.Msg)
			}
			return fmt.Errorf("%s: %s", what, errMsg(ctx, err, start))
		}
		return nil
	}
	if err := step("greeting", 220); err != nil {
		return down(err.Error())
	}
	if err := tp.PrintfLine("HELO %s", s.helo); err != nil {
		return down(errMsg(ctx, err, start))
	}
	if err := step("HELO", 250); err != nil {
		return down(err.Error())
	}
	_ = tp.PrintfLine("QUIT")
	r := up("HELO answered with 250")
	r.Latency = time.Since(start)
	return r
}
