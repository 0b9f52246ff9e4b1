--! 90_exec_argv_string_empty.lua:4:55: argv must be a list of strings (no shell), got string
--! 90_exec_argv_string_empty.lua:5:55: argv is empty; give the program and its arguments
virtual_server "198.18.0.10:25" {
  real_server "198.18.3.1:25" { check = exec { argv = "/usr/lib/luvs/check-smtp --port 25" } },
  real_server "198.18.3.2:25" { check = exec { argv = {} } },
}
