--! 26_bad_ipv6.lua:3:16: virtual_server "[2001:db8::g10]:80": invalid IP address "2001:db8::g10": each colon-separated field must have at least one digit (at "g10")
--! 26_bad_ipv6.lua:8:15: real_server "[2001:db8:1::1::2]:80": invalid IP address "2001:db8:1::1::2": multiple :: in address (at ":2")
virtual_server "[2001:db8::g10]:80" {
  real_server "[2001:db8:1::1]:80" {},
}

virtual_server "[2001:db8::11]:80" {
  real_server "[2001:db8:1::1::2]:80" {},
}
