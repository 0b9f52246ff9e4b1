--! 43_bad_durations.lua:5:41: interval: invalid duration "5x" (write e.g. "2s", "500ms", "1m30s")
--! 43_bad_durations.lua:9:57: timeout -1s is too short (at least 10ms)
--! 43_bad_durations.lua:10:41: tcp check: timeout 3s is longer than interval 2s
defaults {
  check = http { path = "/", interval = "5x" },
}

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = tcp { timeout = "-1s" } },
  real_server "198.18.1.2:80" { check = tcp { interval = "2s", timeout = "3s" } },
  real_server "198.18.1.3:80" {},
}
