--! 87_vs_port_zero.lua:2:16: virtual_server "198.18.0.10:0": port: port 0 (all ports) is only allowed for persistent services
virtual_server "198.18.0.10:0" {
  real_server "198.18.1.1:80" {},
}
