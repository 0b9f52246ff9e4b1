--! 20_persistence_table.lua:3:17: persistence must be a duration like "2s", got table
virtual_server "198.18.0.10:443" {
  persistence = { timeout = 300 },
  real_server "198.18.1.1:443" {},
}
