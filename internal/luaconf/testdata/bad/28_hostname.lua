--! 28_hostname.lua:3:16: virtual_server "lb.example.test:80": "lb.example.test" is not an IP address (luvs does not resolve host names)
--! 28_hostname.lua:8:15: real_server "web1.example.test:80": "web1.example.test" is not an IP address (luvs does not resolve host names)
virtual_server "lb.example.test:80" {
  real_server "198.18.1.1:80" {},
}

virtual_server "198.18.0.11:80" {
  real_server "web1.example.test:80" {},
}
