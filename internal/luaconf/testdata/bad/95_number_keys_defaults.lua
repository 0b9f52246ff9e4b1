--! 95_number_keys_defaults.lua:6:10: defaults has a key [-3]; keys are names
--! 95_number_keys_defaults.lua:6:10: defaults has a key [0.5]; keys are names
--! 95_number_keys_defaults.lua:6:10: defaults has a key [0]; keys are names
--! 95_number_keys_defaults.lua:6:10: defaults has a key [1e+300]; keys are names
--! 95_number_keys_defaults.lua:6:10: defaults has a key [3]; keys are names
defaults { [0] = 1, [-3] = 1, [0.5] = 1, [1e300] = 1, [3] = 1 }

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}
