--! 27_vs_missing_port.lua:2:16: virtual_server "198.18.0.10": missing port (write 198.18.0.10:PORT)
virtual_server "198.18.0.10" {
  real_server "198.18.1.1:80" {},
}
