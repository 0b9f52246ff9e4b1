package check

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/value"
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

// Accepted HTTP status codes.
const statusMin, statusMax = 100, 599

// defaultHTTP is an http or https check's settings by default.
func defaultHTTP() *model.HTTPCheck {
	return &model.HTTPCheck{Method: http.MethodGet, Path: "/", Status: []model.StatusRange{{Lo: 200, Hi: 299}}}
}

// httpPart gives c's http settings, and those left empty, their defaults.
func httpPart(c *model.Check) {
	withDefaults(&c.HTTP, defaultHTTP(), func(h, def *model.HTTPCheck) {
		h.Method, h.Path = cmp.Or(h.Method, def.Method), cmp.Or(h.Path, def.Path)
		if len(h.Status) == 0 {
			h.Status = def.Status
		}
	})
}

func httpField[T any](f func(h *model.HTTPCheck) *T) func(*model.Check) *T {
	return func(c *model.Check) *T { return f(c.HTTP) }
}

// httpSettings are the keys of http; https adds its own.
var httpSettings = []Setting{
	stringSetting("method", "string", "", "Request method (upper-cased).",
		httpField(func(h *model.HTTPCheck) *string { return &h.Method })),
	stringSetting("path", "string starting with `/`", "", "Request path.",
		httpField(func(h *model.HTTPCheck) *string { return &h.Path })),
	stringSetting("host", "string", "the target address", "`Host` header.",
		httpField(func(h *model.HTTPCheck) *string { return &h.Host })),
	setting("headers", "table `{ name = value }`", "Extra request headers (values converted with `tostring`).", false,
		httpField(func(h *model.HTTPCheck) *map[string]string { return &h.Headers }), readHeaders,
		func(m map[string]string) any {
			if len(m) == 0 {
				return map[string]string(nil)
			}
			return m
		}).documented("none"),
	setting("status", "code, `\"lo-hi\"`, or a list of these",
		fmt.Sprintf("Accepted status codes, each %d..%d: `200`, `\"200-399\"`, `{ 200, \"300-302\" }`.", statusMin, statusMax), false,
		httpField(func(h *model.HTTPCheck) *[]model.StatusRange { return &h.Status }), readStatus, showStatus),
	stringSetting("body", "string (RE2 regular expression)", "any", "The body must match.",
		httpField(func(h *model.HTTPCheck) *string { return &h.Body })),
	stringSetting("digest", "string of 32 hex digits", "any", "MD5 of the body (keepalived's `digest`).",
		httpField(func(h *model.HTTPCheck) *string { return &h.Digest })),
}

var httpSpec = &Spec{
	Kind: model.CheckHTTP, Doc: "One HTTP/1.1 request on a fresh connection; the status, body and digest must match.",
	Settings: httpSettings, part: httpPart,
	build: func(c model.Check) (prober, Problems) { return newHTTP(false, c.HTTP) },
}

var httpsSpec = &Spec{
	Kind: model.CheckHTTPS, Doc: "As http, over TLS.",
	Settings: append(httpSettings[:len(httpSettings):len(httpSettings)],
		stringSetting("sni", "string", "none", "TLS server name.",
			httpField(func(h *model.HTTPCheck) *string { return &h.SNI })),
		boolSetting("verify", "Verify the TLS certificate.",
			httpField(func(h *model.HTTPCheck) *bool { return &h.Verify })),
	),
	part:  httpPart,
	build: func(c model.Check) (prober, Problems) { return newHTTP(true, c.HTTP) },
}

// readHeaders reads { name = value }; values are strings, numbers or booleans.
func readHeaders(key string, v any) (map[string]string, error) {
	m, ok := v.(map[string]any)
	if l, isList := v.([]any); isList && len(l) == 0 {
		m, ok = map[string]any{}, true
	}
	if !ok {
		return nil, fmt.Errorf("%s must be a table of name = value, got %s", key, value.TypeName(v))
	}
	out := make(map[string]string, len(m))
	for name, hv := range m {
		switch hv := hv.(type) {
		case string:
			out[name] = hv
		case float64:
			out[name] = value.Number(hv)
		case bool:
			out[name] = strconv.FormatBool(hv)
		default:
			return nil, fmt.Errorf("%s: %s must be a string, got %s", key, name, value.TypeName(hv))
		}
	}
	return out, nil
}

var statusRE = regexp.MustCompile(`^(\d{3})(?:-(\d{3}))?$`)

// readStatus reads 200, "200-299", or a list of those.
func readStatus(key string, v any) ([]model.StatusRange, error) {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	out := []model.StatusRange{}
	for _, it := range items {
		var s string
		switch it := it.(type) {
		case float64:
			s = value.Number(it)
		case string:
			s = it
		default:
			return nil, fmt.Errorf("%s: a %s is not a code or range like 200 or \"200-299\"", key, value.TypeName(it))
		}
		m := statusRE.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("%s: %q is not a code or range like 200 or \"200-299\"", key, s)
		}
		lo, _ := strconv.Atoi(m[1])
		hi := lo
		if m[2] != "" {
			hi, _ = strconv.Atoi(m[2])
		}
		out = append(out, model.StatusRange{Lo: lo, Hi: hi})
	}
	return out, nil
}

func statusText(r model.StatusRange) string {
	if r.Lo == r.Hi {
		return strconv.Itoa(r.Lo)
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// showStatus shows one range as a string, several as a list.
func showStatus(rs []model.StatusRange) any {
	if len(rs) == 1 {
		return statusText(rs[0])
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = statusText(r)
	}
	return out
}

// newHTTP validates an http or https check's settings (completed by
// httpPart) and builds its prober.
func newHTTP(isTLS bool, c *model.HTTPCheck) (*httpChecker, Problems) {
	h := &httpChecker{
		tls:    isTLS,
		method: strings.ToUpper(c.Method),
		host:   c.Host,
		header: make(http.Header, len(c.Headers)+1),
		status: c.Status,
		sni:    c.SNI,
	}
	var ps Problems
	path := c.Path
	if !strings.HasPrefix(path, "/") {
		ps.add("path", "path must start with /, got %q", path)
	}
	scheme := "http"
	if isTLS {
		scheme = "https"
	}
	if _, err := http.NewRequest(h.method, scheme+"://"+urlHost+"/", nil); err != nil {
		ps.add("method", "method %q is not an HTTP method", c.Method)
	}
	h.url = scheme + "://" + urlHost + path
	if _, err := http.NewRequest(http.MethodGet, h.url, nil); err != nil && !ps.has("path") {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		ps.add("path", "path %q: %v", path, err)
	}
	if err := value.CheckLine("host", c.Host); err != nil {
		ps.add("host", "%v", err)
	}
	if err := value.CheckLine("sni", c.SNI); err != nil {
		ps.add("sni", "%v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Headers)) {
		switch v := c.Headers[k]; {
		case !httpguts.ValidHeaderFieldName(k):
			ps.add("headers", "headers: %q is not a header name (letters, digits and !#$%%&'*+-.^_`|~)", k)
		case !httpguts.ValidHeaderFieldValue(v):
			ps.add("headers", "headers: %s = %q has a control character (no CR, LF or NUL in a header)", k, v)
		}
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
	for _, r := range h.status {
		switch {
		case r.Lo > r.Hi:
			ps.add("status", "status: %q is backwards (%d > %d)", statusText(r), r.Lo, r.Hi)
		case r.Lo < statusMin || r.Hi > statusMax:
			ps.add("status", "status: %q is outside %d-%d", statusText(r), statusMin, statusMax)
		}
	}
	if c.Body != "" {
		re, err := regexp.Compile(c.Body)
		if err != nil {
			ps.add("body", "body: invalid regular expression: %v", err)
		}
		h.body = re
	}
	if c.Digest != "" {
		d := strings.ToLower(c.Digest)
		if b, err := hex.DecodeString(d); err != nil || len(b) != md5.Size {
			ps.add("digest", "digest must be 32 hex digits (an MD5 sum), got %q", c.Digest)
		}
		h.digest = d
	}
	if len(ps) > 0 {
		return nil, ps
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
	conn, err := dialerFor(t, "tcp").DialContext(ctx, network, t.String())
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

// fetchClient is Fetch's: no proxy, no connection reuse, no redirects.
var fetchClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Fetch sends one request to url (http or https, certificates verified)
// and returns the status code and the first MiB of the body, before ctx is
// done. Redirects are not followed.
func Fetch(ctx context.Context, method, url string, body []byte) (int, []byte, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := fetchClient.Do(req)
	if err != nil {
		return 0, nil, errors.New(errMsg(ctx, err, start))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, data, errors.New("reading body: " + errMsg(ctx, err, start))
	}
	return resp.StatusCode, data, nil
}
