package luaconf

import (
	"strings"
	"testing"
)

// keepalived's key names get luvs's name as the hint.
func TestKeepalivedKeyHints(t *testing.T) {
	_, err := load(t, `virtual_server "198.18.0.10:80" {
  delay_loop = 6, lb_algo = "rr", lb_kind = "NAT", persistence_timeout = 50,
  real_server "198.18.1.1:80" { inhibit_on_failure = true, check = tcp { connect_timeout = 3, nb_get_retry = 3, delay_before_retry = 3 } },
}`)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{
		`unknown key "delay_loop" in virtual_server "198.18.0.10:80" (did you mean interval? keepalived's delay_loop)`,
		`unknown key "lb_algo" in virtual_server "198.18.0.10:80" (did you mean scheduler? keepalived's lb_algo)`,
		`unknown key "lb_kind" in virtual_server "198.18.0.10:80" (did you mean forward? keepalived's lb_kind; NAT, DR, TUN are "nat", "dr", "tunnel")`,
		`unknown key "persistence_timeout" in virtual_server "198.18.0.10:80" (did you mean persistence? keepalived's persistence_timeout, e.g. persistence = "300s")`,
		`(did you mean on_fail? keepalived's inhibit_on_failure; write on_fail = "drain")`,
		`unknown key "connect_timeout" in tcp check (did you mean timeout? keepalived's connect_timeout)`,
		`(did you mean fall? keepalived's nb_get_retry; fall counts failures in a row, keepalived's retries plus one)`,
		`(did you mean retry_delay? keepalived's delay_before_retry)`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
	_, err = load(t, `virtual_server "198.18.0.10:80" { check = HTTP_GET { path = "/" } }`)
	if err == nil || !strings.Contains(err.Error(), `unknown name "HTTP_GET" (did you mean http? keepalived's HTTP_GET, as in check = http { ... })`) {
		t.Errorf("HTTP_GET: %v", err)
	}
	// A keepalived name that is no key of the place written gets no such hint.
	if s := suggest("lb_algo", []string{"weight", "forward"}); strings.Contains(s, "keepalived") {
		t.Errorf("hint for a key not known here: %s", s)
	}
}

// A keepalived.conf given to luvs fails to parse as Lua; the error says
// how to translate it. A Lua file with a syntax error gets no such hint.
func TestKeepalivedFileHint(t *testing.T) {
	for _, src := range []string{
		"global_defs {\n  router_id lb1\n}\n",
		"# keepalived\nvirtual_server 198.18.0.10 80 {\n  lb_algo rr\n}\n",
		"vrrp_instance VI_1 {\n  state MASTER\n}\n",
		"virtual_server fwmark 7 {\n}\n",
	} {
		_, err := load(t, src)
		if err == nil || !strings.Contains(err.Error(), "this looks like a keepalived configuration") ||
			!strings.Contains(err.Error(), "translate it with 'luvs import keepalived ") {
			t.Errorf("%q: %v", src, err)
		}
	}
	for _, src := range []string{
		"virtual_server \"198.18.0.10:80\" {\n  real_server \"198.18.1.1:80\" {}\n",
		"virtual_server(\"198.18.0.10:80\") { scheduler = }\n",
		"local x = = 1\nvirtual_server \"198.18.0.10:80\" {}\n",
	} {
		_, err := load(t, src)
		if err == nil || strings.Contains(err.Error(), "keepalived") {
			t.Errorf("%q: %v", src, err)
		}
	}
}
