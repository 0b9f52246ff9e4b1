--! 96_other_keys.lua:8:31: real_server "198.18.1.1:80" has a key [0]; keys are names
--! 96_other_keys.lua:8:31: real_server "198.18.1.1:80" has a key of type boolean; keys are names
--! 96_other_keys.lua:9:17: tcp check has a key [-1]; keys are names
--! 96_other_keys.lua:9:17: tcp check has a key of type table; keys are names
--! 96_other_keys.lua:11:33: virtual_server "198.18.0.11:80" has a key [0]; real servers are list entries, written without keys
--! 96_other_keys.lua:11:33: virtual_server "198.18.0.11:80" has a key [2.5]; real servers are list entries, written without keys
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { [0] = 1, [true] = 1,
    check = tcp { [-1] = "x", [{}] = 1 } },
}
virtual_server "198.18.0.11:80" {
  [0] = real_server "198.18.1.2:80" {},
  [2.5] = real_server "198.18.1.3:80" {},
  real_server "198.18.1.4:80" {},
}
