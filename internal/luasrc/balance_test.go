package luasrc

import (
	"errors"
	"testing"
)

// configExample is the reference luvs configuration (balanced).
const configExample = `defaults { scheduler = "wrr", forward = "nat", check = http { path = "/healthz", interval = "2s" } }

local web1 = real_server "198.18.1.1:80" { weight = 3 }
virtual_server "198.18.0.10:80" {
  protocol = "tcp", persistence = "300s", sorry_server = "198.18.9.1:80", quorum = 1,
  web1,
  real_server "198.18.1.2:80" { check = tcp { timeout = "1s" } },
  healthcheck = function(lvs, dests)
    local r = http.get("http://" .. web1.addr .. "/")
    if not r.ok then lvs:del_dest(web1) end
  end,
}
for i = 1, 20 do pool[#pool + 1] = real_server(("[2001:db8:2::%d]:8080"):format(i)) {} end
virtual_server("[2001:db8::10]:8080") { servers = pool }
`

func TestCheckBalance(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // "" for nil
	}{
		{"config example", configExample, ""},
		{"empty", "", ""},
		{"comments only", "-- nothing\n--[[ ( ]]\n", ""},
		{"balanced blocks", `
local function f(t)
  for i = 1, #t do
    while t[i] do t[i] = nil end
  end
  repeat local x = (f or g)({1, [2] = {}}) until x
  if a then b() elseif c then d() else e() end
  do local y = function() return {} end end
  return function(...) return ... end
end`, ""},
		{"brackets in strings", `x = "({[" .. '}' .. [[ ) ]] .. [==[ end until ]==] .. "\"("`, ""},
		{"brackets in comments", "-- {\n--[[ ( ]]\nx = 1 --[==[ } end ]==]\n-- until", ""},
		{"spec example: missing inner brace", `virtual_server "a" {
  real_server "b" {
    check = http { path = "/" },
  real_server "c" { },
}
`, "web.lua:2:19: '{' opened here is never closed"},
		{"extra brace ending an entry's line", `virtual_server "a" {
  real_server "b" {} },
  real_server "c" {},
}
`, "web.lua:2:22: '}' has no matching '{'"},
		{"extra brace on a line of its own", `virtual_server "a" {
  real_server "b" {},
}
}
`, "web.lua:4:1: '}' has no matching '{'"},
		{"missing final brace", `virtual_server "a" {
  protocol = "tcp",
  real_server "b" { weight = 1 },
`, "web.lua:1:20: '{' opened here is never closed"},
		{"missing function end inside table", `virtual_server "a" {
  healthcheck = function(lvs)
    lvs:check()
  ,
}
`, "web.lua:2:17: 'function' opened here is never closed (missing 'end')"},
		{"missing if end inside function inside table", `virtual_server "a" {
  healthcheck = function(lvs, dests)
    local r = http.get("x")
    if not r.ok then lvs:del_dest(web1)
  end,
}
`, "web.lua:4:5: 'if' opened here is never closed (missing 'end')"},
		{"missing function end at EOF", "f = function()\n  return 1\n", "web.lua:1:5: 'function' opened here is never closed (missing 'end')"},
		{"extra brace", "a = { 1 } }", "web.lua:1:11: '}' has no matching '{'"},
		{"extra end", "function f()\nend\nend", "web.lua:3:1: 'end' has no matching 'function', 'if' or 'do'"},
		{"extra paren", "f())", "web.lua:1:4: ')' has no matching '('"},
		{"until without repeat", "x = 1 until x", "web.lua:1:7: 'until' has no matching 'repeat'"},
		{"paren closed by brace", "f(1, 2}", "web.lua:1:7: '}' does not match '(' opened at 1:2"},
		{"bracket closed by brace", "t[1}", "web.lua:1:4: '}' does not match '[' opened at 1:2"},
		{"paren closed by end", "f(function() end end)", "web.lua:1:18: 'end' does not match '(' opened at 1:2"},
		{"brace closed by until", "repeat x = { until x", "web.lua:1:14: 'until' does not match '{' opened at 1:12"},
		{"unclosed paren before less-indented brace", `virtual_server "a" {
  foo(1, 2,
  x = 3,
}`, "web.lua:2:6: '(' opened here is never closed"},
		{"repeat without until", "repeat\n  x = x + 1\n", "web.lua:1:1: 'repeat' opened here is never closed (missing 'until')"},
		{"if without end", "if x then\n  y()\nelse\n  z()\n", "web.lua:1:1: 'if' opened here is never closed (missing 'end')"},
		{"while without end", "while true do\n  x()\n", "web.lua:1:12: 'do' opened here is never closed (missing 'end')"},
		{"unclosed paren at EOF", "print(1,\n  2", "web.lua:1:6: '(' opened here is never closed"},
		{"innermost unclosed without indentation hints", "a = { b = { c = 1", "web.lua:1:11: '{' opened here is never closed"},
		{"first suspicious pair closed wins", `a {
  b {
    c {
      x = 1,
  },
},
`, "web.lua:3:7: '{' opened here is never closed"},
		{"oddity before the unclosed opener is ignored", `local t = {
1 }
x = {
  y = 1,
`, "web.lua:3:5: '{' opened here is never closed"},
		{"lexical error", `x = { "abc }`, "web.lua:1:7: unterminated string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBalance("web.lua", []byte(tt.src))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckBalance = %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckBalance = %v, want *Error %q", err, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("CheckBalance = %q\n                 want %q", err, tt.want)
			}
		})
	}
}
