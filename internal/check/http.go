package check

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// maxBody is how much of a response body the http checker reads.
const maxBody = 1 << 20

// userAgent is sent unless the check sets its own User-Agent header.
const userAgent = "luvs-check/1"

// httpChecker is keepalived's HTTP_GET and SSL_GET: one request per probe,
// on a fresh connection to the target whatever the Host header says.
type httpChecker struct {
	tls    bool
	method string
	url    string // with a placeholder host, replaced per probe
	host   string // Host header; "" for the target address
	header http.Header
	status []model.StatusRange
	body   *regexp.Regexp
	digest string // lower-case hex MD5; "" for any
	sni    string // TLS server name; "" for host, then the target address
	tlsCfg *tls.Config
	client *http.Client
}

// urlHost stands for the target in httpChecker.url.
const urlHost = "luvs.invalid"

type targetKey struct{}

// handshakeError marks a failed TLS handshake.
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return "TLS handshake: " + e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }

func newHTTP(isTLS bool, c *model.HTTPCheck) (*httpChecker, error) {
	if c == nil {
		c = &model.HTTPCheck{}
	}
	h := &httpChecker{
		tls:    isTLS,
		method: c.Method,
		host:   c.Host,
		header: make(http.Header, len(c.Headers)+1),
		status: c.Status,
		sni:    c.SNI,
	}
	if h.method == "" {
		h.method = http.MethodGet
	}
	path := c.Path
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	scheme := "http"
	if isTLS {
		scheme = "https"
	}
	h.url = scheme + "://" + urlHost + path
	if _, err := http.NewRequest(h.method, h.url, nil); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("bad method or path: %w", err)
	}
	h.header.Set("User-Agent", userAgent)
	for k, v := range c.Headers {
		if strings.EqualFold(k, "Host") {
			if h.host == "" {
				h.host = v
			}
			continue
		}
		h.header.Set(k, v)
	}
	if len(h.status) == 0 {
		h.status = []model.StatusRange{{Lo: 200, Hi: 299}}
	}
	for _, r := range h.status {
		if r.Lo < 100 || r.Hi > 999 || r.Lo > r.Hi {
			return nil, fmt.Errorf("bad status range %d-%d", r.Lo, r.Hi)
		}
	}
	if c.Body != "" {
		re, err := regexp.Compile(c.Body)
		if err != nil {
			return nil, fmt.Errorf("bad body regexp: %w", err)
		}
		h.body = re
	}
	if c.Digest != "" {
		d := strings.ToLower(c.Digest)
		if b, err := hex.DecodeString(d); err != nil || len(b) != md5.Size {
			return nil, fmt.Errorf("bad digest %q: want 32 hex digits (MD5)", c.Digest)
		}
		h.digest = d
	}
	if isTLS {
		h.tlsCfg = &tls.Config{
			InsecureSkipVerify: !c.Verify,
			NextProtos:         []string{"http/1.1"},
		}
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialTarget,
		DisableKeepAlives:      true,
		DisableCompression:     true, // the digest is of the body as sent
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      false,
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	if isTLS {
		tr.DialTLSContext = h.dialTLS
	}
	h.client = &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return h, nil
}

// dialTarget dials the probe's Target, whatever the request's host.
func dialTarget(ctx context.Context, network, _ string) (net.Conn, error) {
	t, ok := ctx.Value(targetKey{}).(Target)
	if !ok {
		return nil, errors.New("no target")
	}
	conn, err := dialer.DialContext(ctx, network, t.String())
	if err != nil {
		return nil, err
	}
	return rstConn{conn.(*net.TCPConn)}, nil
}

// rstConn closes with a reset (see closeRST).
type rstConn struct{ *net.TCPConn }

func (c rstConn) Close() error {
	_ = c.SetLinger(0)
	return c.TCPConn.Close()
}

// dialTLS dials the target and does the TLS handshake with the check's
// server name.
func (h *httpChecker) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := dialTarget(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := h.tlsCfg.Clone()
	cfg.ServerName = h.sni
	if cfg.ServerName == "" {
		cfg.ServerName = hostOnly(h.host)
	}
	if cfg.ServerName == "" {
		cfg.ServerName = ctx.Value(targetKey{}).(Target).Addr.String()
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, &handshakeError{err}
	}
	return tc, nil
}

func (h *httpChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	ctx = context.WithValue(ctx, targetKey{}, t)
	req, err := http.NewRequestWithContext(ctx, h.method, h.url, nil)
	if err != nil {
		return down(err.Error())
	}
	req.URL.Host = t.String()
	req.Host = h.host
	req.Header = h.header.Clone()
	resp, err := h.client.Do(req)
	if err != nil {
		return down(h.errMsg(ctx, err, start))
	}
	defer resp.Body.Close()
	status := "HTTP " + resp.Status
	if !h.statusOK(resp.StatusCode) {
		return down(status)
	}
	if h.body == nil && h.digest == "" {
		return up(status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return down(status + ", reading body: " + errMsg(ctx, err, start))
	}
	if h.body != nil && !h.body.Match(body) {
		return down(fmt.Sprintf("body does not match %q", h.body.String()))
	}
	if h.digest != "" {
		sum := md5.Sum(body)
		if got := hex.EncodeToString(sum[:]); got != h.digest {
			return down("body digest " + got + ", want " + h.digest)
		}
	}
	return up(status)
}

func (h *httpChecker) statusOK(code int) bool {
	for _, r := range h.status {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

func (h *httpChecker) errMsg(ctx context.Context, err error, start time.Time) string {
	var he *handshakeError
	if errors.As(err, &he) && ctx.Err() == nil {
		return "TLS handshake: " + errMsg(ctx, he.err, start)
	}
	if ctx.Err() == nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		return "connection closed before the response"
	}
	return errMsg(ctx, err, start)
}
