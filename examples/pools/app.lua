-- Included by multi.lua: a pool shared by two services.
app_pool = {
  real_server "198.18.21.2:8080" {},
  real_server "198.18.22.2:8080" {},
}
