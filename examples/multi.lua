-- Splitting a configuration: include reads a file relative to this one.
include "pools/app.lua"

defaults { scheduler = "wlc", forward = "nat", check = tcp {} }

virtual_server "198.18.0.40:80" { servers = app_pool }
virtual_server "198.18.0.41:80" { servers = app_pool, check = false }
