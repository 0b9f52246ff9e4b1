--! 108_notify_and_alpha.lua:5:33: real_server "198.18.1.1:80": alpha keeps a server down until a check passes, and it has no check
--! 108_notify_and_alpha.lua:6:45: notify_up must be a program (a list of strings, no shell) or a function(ev), got string
--! 108_notify_and_alpha.lua:7:17: quorum_down is empty; give the program and its arguments
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { alpha = true },
  real_server "198.18.1.2:80" { notify_up = "/bin/up.sh now" },
  quorum_down = {},
}
