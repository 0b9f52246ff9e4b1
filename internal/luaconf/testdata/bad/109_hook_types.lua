--! 109_hook_types.lua:6:15: quorum_up must be a program (a list of strings, no shell) or a function(ev), got number
--! 109_hook_types.lua:7:17: quorum_down must be a function written in the configuration, not a built-in one
--! 109_hook_types.lua:8:47: notify_down[2] must be a string, got function
--! 109_hook_types.lua:9:45: notify_up must be a program (a list of strings, no shell) or a function(ev), got boolean
virtual_server "198.18.0.10:80" {
  quorum_up = 5,
  quorum_down = print,
  real_server "198.18.1.1:80" { notify_down = { "/bin/down", function() end } },
  real_server "198.18.1.2:80" { notify_up = true, notify_down = function(ev) end },
}
