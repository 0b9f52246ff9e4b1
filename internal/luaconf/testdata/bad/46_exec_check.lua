--! 46_exec_check.lua:4:41: exec check needs argv = { "/path/to/program", "arg", ... }
--! 46_exec_check.lua:5:55: argv[2] must be a string, got number
virtual_server "198.18.0.10:25" {
  real_server "198.18.3.1:25" { check = exec {} },
  real_server "198.18.3.2:25" { check = exec { argv = { "/usr/lib/luvs/check-smtp", 25 } } },
}
