--! 39_duplicate_vs_spelling.lua:7:1: duplicate virtual server TCP 198.18.0.10:80 (first declared at 39_duplicate_vs_spelling.lua:3:1)
--! 39_duplicate_vs_spelling.lua:12:1: duplicate virtual server UDP [2001:db8::10]:53 (first declared at 39_duplicate_vs_spelling.lua:11:1)
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}

virtual_server "tcp:198.18.0.10:80" {
  real_server "198.18.1.2:80" {},
}

virtual_server "[2001:db8::10]:53" { protocol = "udp", real_server "[2001:db8:1::1]:53" {} }
virtual_server "udp:[2001:db8:0::10]:53" { real_server "[2001:db8:1::2]:53" {} }
