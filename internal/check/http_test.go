package check

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	stdlog "log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// testBody is what the test server's "/" returns.
const testBody = "status: ok\nbuild 42\n"

// httpLog records what the test HTTP server saw.
type httpLog struct {
	mu   sync.Mutex
	reqs []*http.Request
	snis []string
}

func (l *httpLog) last() *http.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.reqs) == 0 {
		return nil
	}
	return l.reqs[len(l.reqs)-1]
}

func (l *httpLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

func (l *httpLog) lastSNI() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.snis) == 0 {
		return "<none>"
	}
	return l.snis[len(l.snis)-1]
}

// testHandler serves the paths the http tests probe.
func testHandler(log *httpLog, hang <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, testBody)
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.PathValue("code"), &code)
		w.WriteHeader(code)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("x", 64<<10)
		for range 4 << 20 / len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/slowbody", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.mu.Lock()
		log.reqs = append(log.reqs, r)
		log.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

// startHTTP serves testHandler on addr, over TLS with cert when not nil.
func startHTTP(t *testing.T, addr netip.Addr, cert *tls.Certificate) (Target, *httpLog) {
	t.Helper()
	log := &httpLog{}
	hang := make(chan struct{})
	srv := httptest.NewUnstartedServer(testHandler(log, hang))
	srv.Listener.Close()
	srv.Listener = listen(t, addr)
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	if cert != nil {
		srv.TLS = &tls.Config{
			Certificates: []tls.Certificate{*cert},
			GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
				log.mu.Lock()
				log.snis = append(log.snis, hi.ServerName)
				log.mu.Unlock()
				return nil, nil
			},
		}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		close(hang)
		srv.Close()
	})
	return targetOf(srv.Listener.Addr()), log
}

// selfSigned makes a self-signed certificate for www.example.test and the
// test addresses.
func selfSigned(t *testing.T) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "www.example.test"},
		DNSNames:              []string{"www.example.test"},
		IPAddresses:           []net.IP{addr1.AsSlice(), addr6.AsSlice()},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func httpCheck(h model.HTTPCheck) model.Check {
	return model.Check{Kind: model.CheckHTTP, HTTP: &h}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestHTTP(t *testing.T) {
	needNet(t)
	tgt, log := startHTTP(t, addr1, nil)
	tgt6, log6 := startHTTP(t, addr6, nil)

	t.Run("up", func(t *testing.T) {
		r := probe(t, mustNew(t, model.Check{Kind: model.CheckHTTP}), tgt, time.Second)
		wantUp(t, r, "HTTP 200 OK")
		req := log.last()
		if req == nil || req.Method != "GET" || req.URL.Path != "/" || req.Host != tgt.String() {
			t.Errorf("server saw %+v", req)
		} else if req.Header.Get("Connection") != "close" && !req.Close {
			t.Errorf("request does not close its connection: %v", req.Header)
		}
	})
	t.Run("ipv6", func(t *testing.T) {
		r := probe(t, mustNew(t, httpCheck(model.HTTPCheck{Path: "/", Body: "ok"})), tgt6, time.Second)
		wantUp(t, r, "HTTP 200 OK")
		if req := log6.last(); req == nil || req.Host != "[2001:db8::1]:"+fmt.Sprint(tgt6.Port) {
			t.Errorf("server saw %+v", req)
		}
	})
	t.Run("status-503", func(t *testing.T) {
		r := probe(t, mustNew(t, httpCheck(model.HTTPCheck{Path: "/status/503"})), tgt, time.Second)
		wantDown(t, r, "HTTP 503 Service Unavailable")
	})
	t.Run("status-ranges", func(t *testing.T) {
		c := mustNew(t, httpCheck(model.HTTPCheck{Path: "/status/503", Status: []model.StatusRange{{Lo: 200, Hi: 200}, {Lo: 500, Hi: 503}}}))
		wantUp(t, probe(t, c, tgt, time.Second), "HTTP 503")
		c = mustNew(t, httpCheck(model.HTTPCheck{Path: "/status/504", Status: []model.StatusRange{{Lo: 200, Hi: 200}, {Lo: 500, Hi: 503}}}))
		wantDown(t, probe(t, c, tgt, time.Second), "HTTP 504 Gateway Timeout")
		c = mustNew(t, httpCheck(model.HTTPCheck{Status: []model.StatusRange{{Lo: 204, Hi: 204}}}))
		wantDown(t, probe(t, c, tgt, time.Second), "HTTP 200 OK")
	})
	t.Run("no-redirects", func(t *testing.T) {
		n := log.count()
		r := probe(t, mustNew(t, httpCheck(model.HTTPCheck{Path: "/redirect"})), tgt, time.Second)
		wantDown(t, r, "HTTP 302 Found")
		c := mustNew(t, httpCheck(model.HTTPCheck{Path: "/redirect", Status: []model.StatusRange{{Lo: 300, Hi: 399}}}))
		wantUp(t, probe(t, c, tgt, time.Second), "HTTP 302 Found")
		if got := log.count() - n; got != 2 {
			t.Errorf("server saw %d requests for 2 probes", got)
		}
	})
	t.Run("body-regexp", func(t *testing.T) {
		c := mustNew(t, httpCheck(model.HTTPCheck{Body: `(?m)^status: ok$`}))
		wantUp(t, probe(t, c, tgt, time.Second), "HTTP 200 OK")
		c = mustNew(t, httpCheck(model.HTTPCheck{Body: `build \d+0\b`}))
		wantDown(t, probe(t, c, tgt, time.Second), `body does not match "build \\d+0\\b"`)
	})
	t.Run("digest", func(t *testing.T) {
		c := mustNew(t, httpCheck(model.HTTPCheck{Digest: strings.ToUpper(md5hex(testBody))}))
		wantUp(t, probe(t, c, tgt, time.Second), "HTTP 200 OK")
		c = mustNew(t, httpCheck(model.HTTPCheck{Digest: md5hex("something else")}))
		wantDown(t, probe(t, c, tgt, time.Second), "body digest "+md5hex(testBody)+", want "+md5hex("something else"))
	})
	t.Run("digest-of-first-MiB", func(t *testing.T) {
		c := mustNew(t, httpCheck(model.HTTPCheck{Path: "/big", Digest: md5hex(strings.Repeat("x", 1<<20))}))
		wantUp(t, probe(t, c, tgt, 2*time.Second), "HTTP 200 OK")
	})
	t.Run("request", func(t *testing.T) {
		c := mustNew(t, httpCheck(model.HTTPCheck{
			Method:  "HEAD",
			Path:    "/health?deep=1",
			Host:    "www.example.test",
			Headers: map[string]string{"X-Check": "luvs", "User-Agent": "probe/2"},
		}))
		wantUp(t, probe(t, c, tgt, time.Second), "HTTP 200 OK")
		req := log.last()
		if req == nil || req.Method != "HEAD" || req.URL.Path != "/health" || req.URL.RawQuery != "deep=1" ||
			req.Host != "www.example.test" || req.Header.Get("X-Check") != "luvs" || req.UserAgent() != "probe/2" {
			t.Errorf("server saw %+v", req)
		}
	})
	t.Run("host-header-in-headers", func(t *testing.T) {
		c := mustNew(t, httpCheck(model.HTTPCheck{Headers: map[string]string{"host": "api.example.test"}}))
		wantUp(t, probe(t, c, tgt, time.Second), "HTTP 200 OK")
		if req := log.last(); req == nil || req.Host != "api.example.test" {
			t.Errorf("server saw %+v", req)
		}
	})
	t.Run("refused", func(t *testing.T) {
		r := probe(t, mustNew(t, model.Check{Kind: model.CheckHTTP}), Target{Addr: addr1, Port: unusedPort(t, "tcp", addr1)}, time.Second)
		wantDown(t, r, "connect: connection refused")
	})
	t.Run("closed", func(t *testing.T) {
		r := probe(t, mustNew(t, httpCheck(model.HTTPCheck{Path: "/close"})), tgt, time.Second)
		wantDown(t, r, "connection closed before the response")
	})
	t.Run("timeout-headers", func(t *testing.T) {
		r := probe(t, mustNew(t, httpCheck(model.HTTPCheck{Path: "/hang"})), tgt, 300*time.Millisecond)
		wantDown(t, r, "timeout after 300ms")
	})
	t.Run("timeout-body", func(t *testing.T) {
		r := probe(t, mustNew(t, httpCheck(model.HTTPCheck{Path: "/slowbody", Body: "x"})), tgt, 300*time.Millisecond)
		wantDown(t, r, "HTTP 200 OK, reading body: timeout after 300ms")
	})
	t.Run("timeout-connect", func(t *testing.T) {
		r := probe(t, mustNew(t, model.Check{Kind: model.CheckHTTP}), Target{Addr: blackhole, Port: 80}, 300*time.Millisecond)
		wantDown(t, r, "timeout after 300ms")
	})
	t.Run("port-override", func(t *testing.T) {
		oc := httpCheck(model.HTTPCheck{})
		oc.Port = tgt.Port
		wantUp(t, probe(t, mustNew(t, oc), TargetFor(oc, addr1, 1), time.Second), "HTTP 200 OK")
	})
	t.Run("addr-override-ipv6", func(t *testing.T) {
		oc := httpCheck(model.HTTPCheck{})
		oc.Addr, oc.Port = addr6, tgt6.Port
		wantUp(t, probe(t, mustNew(t, oc), TargetFor(oc, unrouted, 80), time.Second), "HTTP 200 OK")
	})
}

func TestHTTPS(t *testing.T) {
	needNet(t)
	cert := selfSigned(t)
	tgt, log := startHTTP(t, addr1, cert)
	tgt6, log6 := startHTTP(t, addr6, cert)
	plain, _ := startHTTP(t, addr1, nil)
	https := func(h model.HTTPCheck) Checker {
		return mustNew(t, model.Check{Kind: model.CheckHTTPS, HTTP: &h})
	}

	t.Run("up-no-verify", func(t *testing.T) {
		wantUp(t, probe(t, https(model.HTTPCheck{Body: "status: ok"}), tgt, time.Second), "HTTP 200 OK")
		// Go sends no SNI for an IP address.
		if sni := log.lastSNI(); sni != "" {
			t.Errorf("SNI %q sent for an IP target", sni)
		}
	})
	t.Run("ipv6", func(t *testing.T) {
		wantUp(t, probe(t, https(model.HTTPCheck{}), tgt6, time.Second), "HTTP 200 OK")
		if log6.count() == 0 {
			t.Error("IPv6 server saw no request")
		}
	})
	t.Run("verify-self-signed", func(t *testing.T) {
		r := probe(t, https(model.HTTPCheck{Verify: true, SNI: "www.example.test"}), tgt, time.Second)
		wantDown(t, r, "TLS handshake: tls: failed to verify certificate: x509: certificate signed by unknown authority")
	})
	t.Run("sni", func(t *testing.T) {
		wantUp(t, probe(t, https(model.HTTPCheck{SNI: "www.example.test", Host: "other.example.test"}), tgt, time.Second), "HTTP 200 OK")
		if sni := log.lastSNI(); sni != "www.example.test" {
			t.Errorf("SNI %q, want www.example.test", sni)
		}
		if req := log.last(); req == nil || req.Host != "other.example.test" || req.TLS == nil {
			t.Errorf("server saw %+v", req)
		}
	})
	t.Run("sni-from-host", func(t *testing.T) {
		wantUp(t, probe(t, https(model.HTTPCheck{Host: "api.example.test:8443"}), tgt, time.Second), "HTTP 200 OK")
		if sni := log.lastSNI(); sni != "api.example.test" {
			t.Errorf("SNI %q, want api.example.test", sni)
		}
	})
	t.Run("not-tls", func(t *testing.T) {
		r := probe(t, https(model.HTTPCheck{}), plain, time.Second)
		wantDown(t, r, "TLS handshake: ")
	})
	t.Run("handshake-timeout", func(t *testing.T) {
		ln := listen(t, addr1)
		go func() { // accept and say nothing
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		r := probe(t, https(model.HTTPCheck{}), targetOf(ln.Addr()), 300*time.Millisecond)
		wantDown(t, r, "timeout after 300ms")
	})
	t.Run("status", func(t *testing.T) {
		wantDown(t, probe(t, https(model.HTTPCheck{Path: "/status/500"}), tgt, time.Second), "HTTP 500 Internal Server Error")
	})
}
