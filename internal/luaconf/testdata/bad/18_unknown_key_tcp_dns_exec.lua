--! 18_unknown_key_tcp_dns_exec.lua:6:47: unknown key "timout" in tcp check (did you mean "timeout"?)
--! 18_unknown_key_tcp_dns_exec.lua:10:71: unknown key "qtype" in dns check (did you mean "type"?)
--! 18_unknown_key_tcp_dns_exec.lua:11:41: exec check needs argv = { "/path/to/program", "arg", ... }
--! 18_unknown_key_tcp_dns_exec.lua:11:48: unknown key "args" in exec check (did you mean "argv"?)
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = tcp { timout = "1s" } },
}

virtual_server "udp:198.18.0.53:53" {
  real_server "198.18.2.1:53" { check = dns { name = "example.test.", qtype = "A" } },
  real_server "198.18.2.2:53" { check = exec { args = { "/usr/lib/luvs/check-dns" } } },
}
