--! 70_on_fail.lua:3:43: on_fail: must be "drain" or "remove", got "disable"
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { on_fail = "disable" },
}
