--! 29_port_out_of_range.lua:3:16: virtual_server "198.18.0.10:70000": port 70000 out of range 0..65535
--! 29_port_out_of_range.lua:8:54: port 0 out of range 1..65535
virtual_server "198.18.0.10:70000" {
  real_server "198.18.1.1:80" {},
}

virtual_server "198.18.0.11:80" {
  real_server "198.18.1.1:80" { check = tcp { port = 0 } },
}
