--! 93_vs_options_not_table.lua:2:1: virtual_server "198.18.0.10:80" needs a table of options: virtual_server "198.18.0.10:80" { ... } (got string)
virtual_server "198.18.0.10:80" "wrr"
