--[[ include/keys.lua — naming keys of the queue a script runs on, from one
of its declared keys; prepended after include/lib.lua to every script that
takes include/records.lua, and to the batch scripts (a child batch names
its queue's release outbox with it, include/batch.lua). Plain `ack.lua`
does without it.

Included by (`lua!(records …)`, `lua!(flow …)`, `lua_deps!` and
`lua_batch!` in store/scripts.rs): every script that takes
include/records.lua, ack.lua (for include/observe.lua), and ack_batch.lua, batch_add.lua, batch_child_update.lua,
batch_expire_held.lua, batch_link_child.lua, batch_retry_dead.lua,
batch_seal.lua.
]]

-- The base `P:{Q}` of a declared queue key that ends with `suffix` (e.g.
-- KEYS[n] = 'P:{Q}:ready', ':ready').
local function flow_base(key, suffix)
  return string.sub(key, 1, #key - #suffix)
end

-- A key of the same queue: `base` comes from flow_base of a declared key,
-- so the result has the queue's `{Q}` hash tag and lives in the slot the
-- script was routed to (Redis Cluster allows such keys; tests/script_keys.rs
-- accepts only this form of a key built in Lua).
local function queue_key(base, suffix)
  return base .. suffix
end

