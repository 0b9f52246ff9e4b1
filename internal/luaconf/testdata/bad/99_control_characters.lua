--! 99_control_characters.lua:6:10: name "web\nfront" has a control character (U+000A); write it on one line, without NUL or CR/LF
--! 99_control_characters.lua:7:40: name "a\x00b" has a control character (U+0000); write it on one line, without NUL or CR/LF
--! 99_control_characters.lua:8:30: headers: X-A = "1\r\nX-B: 2" has a control character (no CR, LF or NUL in a header)
--! 99_control_characters.lua:9:54: name "example.test\x00" has a control character (U+0000); write it on one line, without NUL or CR/LF
virtual_server "198.18.0.10:80" {
  name = "web\nfront",
  real_server "198.18.1.1:80" { name = "a\0b",
    check = http { headers = { ["X-A"] = "1\r\nX-B: 2" } } },
  real_server "198.18.1.2:80" { check = dns { name = "example.test\0" } },
}
