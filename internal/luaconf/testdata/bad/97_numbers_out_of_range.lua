--! 97_numbers_out_of_range.lua:12:49: persistence 1193046h33m16s out of range 1s..744h0m0s
--! 97_numbers_out_of_range.lua:13:49: persistence 1193046h28m17s out of range 1s..744h0m0s
--! 97_numbers_out_of_range.lua:14:49: persistence 1.5s is not a whole number of seconds (1s..744h0m0s)
--! 97_numbers_out_of_range.lua:15:49: persistence 1e+10 s out of range 1s..744h0m0s
--! 97_numbers_out_of_range.lua:16:49: persistence NaN s out of range 1s..744h0m0s
--! 97_numbers_out_of_range.lua:17:74: weight 1e+20 out of range 0..65535
--! 97_numbers_out_of_range.lua:18:90: interval NaN s out of range 100ms..2562047h47m16s
--! 97_numbers_out_of_range.lua:19:16: virtual_server "fwmark:010": invalid fwmark "010": a leading zero (octal is not read) (want 1..4294967295, decimal or 0x hex)
--! 97_numbers_out_of_range.lua:20:16: virtual_server "fwmark:1_000": invalid fwmark "1_000": not a number (want 1..4294967295, decimal or 0x hex)
--! 97_numbers_out_of_range.lua:21:16: virtual_server "fwmark:0b101": invalid fwmark "0b101": not a number (want 1..4294967295, decimal or 0x hex)
--! 97_numbers_out_of_range.lua:22:16: virtual_server "fwmark6:0o17": invalid fwmark "0o17": not a number (want 1..4294967295, decimal or 0x hex)
virtual_server "198.18.0.10:80" { persistence = "4294967596s", real_server "198.18.1.1:80" {} }
virtual_server "198.18.0.11:80" { persistence = 2^32 + 1, real_server "198.18.1.1:80" {} }
virtual_server "198.18.0.12:80" { persistence = "1.5s", real_server "198.18.1.1:80" {} }
virtual_server "198.18.0.13:80" { persistence = 1e10, real_server "198.18.1.1:80" {} }
virtual_server "198.18.0.14:80" { persistence = 1e400, real_server "198.18.1.1:80" {} }
virtual_server "198.18.0.15:80" { real_server "198.18.1.1:80" { weight = 1e20 } }
virtual_server "198.18.0.16:80" { real_server "198.18.1.1:80" { check = tcp { interval = 1e400 } } }
virtual_server "fwmark:010" { real_server "198.18.1.1" { forward = "dr" } }
virtual_server "fwmark:1_000" { real_server "198.18.1.1" { forward = "dr" } }
virtual_server "fwmark:0b101" { real_server "198.18.1.1" { forward = "dr" } }
virtual_server "fwmark6:0o17" { real_server "2001:db8::1" { forward = "dr" } }
virtual_server "fwmark:0x1F" { real_server "198.18.1.1" { forward = "dr" } }
virtual_server "fwmark:4294967295" { real_server "198.18.1.1" { forward = "dr" } }
