--! 106_timeouts_bad.lua:4:18: tcp 0s out of range 1s..576h0m0s
--! 106_timeouts_bad.lua:4:21: unknown key "tcpfin" in timeouts (did you mean "tcp_fin"?)
--! 106_timeouts_bad.lua:5:1: timeouts already set at 106_timeouts_bad.lua:4:1; set all timeouts in one place
timeouts { tcp = 0, tcpfin = "2m" }
timeouts { udp = "5m" }
