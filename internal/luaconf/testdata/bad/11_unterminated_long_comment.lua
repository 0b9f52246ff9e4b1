--! 11_unterminated_long_comment.lua:4:3: unterminated long comment (missing ']]')
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
  --[[ disabled for maintenance:
  real_server "198.18.1.2:80" {},
  ]
}
