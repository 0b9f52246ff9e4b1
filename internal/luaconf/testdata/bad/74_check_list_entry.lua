--! 74_check_list_entry.lua:3:48: http check takes only key = value options, not a list entry (string)
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = http { "/healthz" } },
}
