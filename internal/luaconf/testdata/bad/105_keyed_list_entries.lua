--! 105_keyed_list_entries.lua:5:13: servers is a list, but has a key "backup"; write its entries without keys
--! 105_keyed_list_entries.lua:5:13: servers is a list, but has a key [0]; write its entries without keys
--! 105_keyed_list_entries.lua:10:42: checks is a list, but has a key [0.5]; write its entries without keys
virtual_server "198.18.0.10:80" {
  servers = {
    [0] = real_server "198.18.1.1:80" {},
    real_server "198.18.1.2:80" {},
    backup = real_server "198.18.1.3:80" {},
  },
  real_server "198.18.1.4:80" { checks = { [0.5] = tcp {}, http {} } },
}
