package lua

import "testing"

// TestTableKeyOrderWithoutIndex: iteration visits every key once, in
// insertion order, whether or not the key index was built (it is built
// lazily: on the first next, or after a deletion).
func TestTableKeyOrderWithoutIndex(t *testing.T) {
	L := NewState()
	defer L.Close()
	if err := L.DoString(`
		local function keys(t)
			local out = {}
			for k in pairs(t) do out[#out + 1] = tostring(k) end
			return table.concat(out, ",")
		end
		local t = { a = 1, b = 2 }
		t.c = 3; t.a = 10; t[true] = 4; t[true] = 5
		assert(keys(t) == "a,b,c,true", keys(t))
		t.d = 6 -- after the index was built by pairs
		assert(keys(t) == "a,b,c,true,d", keys(t))
		local u = { x = 1, y = 2, z = 3 }
		u.y = nil
		u.w = 4; u.y = 5 -- a deleted key comes back in its old place
		assert(keys(u) == "x,y,z,w", keys(u))
		for k in pairs(u) do u[k] = nil end -- clearing while iterating
		assert(next(u) == nil)
		local n = 0
		for i = 1, 100 do u["k" .. i] = i end
		for k, v in pairs(u) do n = n + v end
		assert(n == 5050, n)
	`); err != nil {
		t.Fatal(err)
	}
}
