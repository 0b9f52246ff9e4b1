package override

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

func base(t *testing.T) *model.Config {
	t.Helper()
	cfg := &model.Config{}
	for _, s := range []string{"198.18.0.10:80", "198.18.0.11:443"} {
		k, err := model.ParseServiceKey(s)
		if err != nil {
			t.Fatal(err)
		}
		sc := model.ServiceConfig{Service: model.Service{ServiceKey: k, Scheduler: "wrr"}}
		for _, a := range []string{"198.18.1.1", "198.18.1.2"} {
			sc.Servers = append(sc.Servers, model.ServerConfig{Dest: model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr(a), Port: k.Port}, Weight: 4},
				Checks: []model.Check{{Kind: model.CheckTCP}}, SlowStart: time.Second})
		}
		cfg.Services = append(cfg.Services, sc)
	}
	return cfg
}

func mustTarget(t *testing.T, server, service string) Target {
	t.Helper()
	tg, err := ParseTarget(server, service)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func weights(cfg *model.Config) map[string]int {
	out := map[string]int{}
	for _, sc := range cfg.Services {
		for _, rs := range sc.Servers {
			out[sc.ServiceKey.String()+" "+rs.DestKey.String()] = rs.Weight
		}
	}
	return out
}

func TestLayer(t *testing.T) {
	b := base(t)
	var s Set
	s = s.With(Override{Kind: Drain, Target: mustTarget(t, "198.18.1.1", "")})
	s = s.With(Override{Kind: Weight, Target: mustTarget(t, "198.18.1.2:443", ""), Weight: 50, Percent: true})
	s = s.With(Override{Kind: Maint, Target: mustTarget(t, "198.18.1.2:80", "198.18.0.10:80")})
	s = s.With(Override{Kind: Remove, Target: mustTarget(t, "198.18.1.1:443", "198.18.0.11:443")})
	s = s.With(Override{Kind: Add, Target: mustTarget(t, "198.18.1.3:443", "198.18.0.11:443"), Weight: 7})
	states := map[string]Kind{}
	got := Layer(b, s, func(svc model.ServiceKey, d model.DestKey, st ServerState) {
		states[svc.String()+" "+d.String()] = st.State
	})
	want := map[string]int{
		"TCP 198.18.0.10:80 198.18.1.1:80":   0, // drained everywhere
		"TCP 198.18.0.10:80 198.18.1.2:80":   0, // maintenance
		"TCP 198.18.0.11:443 198.18.1.2:443": 2, // 50%
		"TCP 198.18.0.11:443 198.18.1.3:443": 7, // added
	}
	if w := weights(got); !reflect.DeepEqual(w, want) {
		t.Errorf("layered weights %v, want %v", w, want)
	}
	if w := weights(b); len(w) != 4 || w["TCP 198.18.0.10:80 198.18.1.1:80"] != 4 {
		t.Errorf("the base changed: %v", w)
	}
	for _, rs := range got.Services[0].Servers {
		if rs.Port == 80 && rs.Addr == netip.MustParseAddr("198.18.1.2") && rs.Checks != nil {
			t.Error("a server in maintenance keeps its checks")
		}
	}
	added := got.Services[1].Servers[len(got.Services[1].Servers)-1]
	if len(added.Checks) != 1 || added.SlowStart != time.Second {
		t.Errorf("an added server does not get its first sibling's checks and settings: %+v", added)
	}
	if states["TCP 198.18.0.10:80 198.18.1.2:80"] != Maint || states["TCP 198.18.0.10:80 198.18.1.1:80"] != Drain {
		t.Errorf("states %v", states)
	}
	// ready of the address clears both states.
	s2, cleared := s.Ready(mustTarget(t, "198.18.1.1", ""))
	if len(cleared) != 1 || len(s2) != len(s)-1 {
		t.Errorf("ready: cleared %v", cleared)
	}
	// Round trip through the state directory's form.
	b2, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s {
		s[i].At = s[i].At.UTC()
		back[i].At = back[i].At.UTC()
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("decoded %v, want %v", back, s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range [][2]string{{"web1", ""}, {"198.18.1.1:0", ""}, {"198.18.1.1", "nonsense:"}} {
		if _, err := ParseTarget(c[0], c[1]); err == nil {
			t.Errorf("ParseTarget(%q, %q): no error", c[0], c[1])
		}
	}
	for _, w := range []string{"-1", "65536", "1001%", "x", ""} {
		if _, _, err := ParseWeight(w); err == nil {
			t.Errorf("ParseWeight(%q): no error", w)
		}
	}
	if w, p, err := ParseWeight("50%"); err != nil || w != 50 || !p {
		t.Errorf("ParseWeight(50%%) = %d, %v, %v", w, p, err)
	}
	if _, err := Decode([]byte(`{"overrides":[{"kind":"explode","server":"198.18.1.1"}]}`)); err == nil {
		t.Error("an unknown kind decodes")
	}
}
