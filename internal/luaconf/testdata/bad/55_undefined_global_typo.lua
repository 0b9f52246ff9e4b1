--! 55_undefined_global_typo.lua:6:1: unknown name "virtual_sever" (did you mean "virtual_server"?)
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}

virtual_sever "198.18.0.11:80" {
  real_server "198.18.1.2:80" {},
}
