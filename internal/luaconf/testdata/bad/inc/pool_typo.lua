-- Included by 59_include_error_inside.lua.
web_pool = {
  real_server "198.18.1.1:80" { wieght = 2 },
  real_server "198.18.1.2:80" {},
}
